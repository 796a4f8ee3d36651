"""File-level edits shared by ``simnet edit`` and ``simnet batch``: read, edit, write atomically."""
from __future__ import annotations

import os
from pathlib import Path

from engine.errors import ImageWriteError
from engine.imageio import load_image, load_mask, save_image
from engine.manipulator import EditResult, Manipulator


def same_file(first: Path, second: Path) -> bool:
    """True when both paths name one file (the second need not exist)."""
    try:
        return first.resolve() == second.resolve() or (second.exists() and os.path.samefile(first, second))
    except OSError:
        return False


def edit_file(manipulator: Manipulator, image_path: str | Path, source_mask_path: str | Path,
              target_mask_path: str | Path, output_path: str | Path, *,
              overwrite_original: bool = False) -> EditResult:
    """Edit one artwork file and write the result (colour profile and metadata carried over).

    The output is written to a temporary file and renamed, so a failure leaves no partial file
    and any previous file at ``output_path`` intact. Writing over the input artwork itself is
    refused unless ``overwrite_original`` is set.
    """
    image_path, output_path = Path(image_path), Path(output_path)
    if same_file(image_path, output_path) and not overwrite_original:
        raise ImageWriteError(f"{output_path} is the original artwork; choose another output "
                              "(or pass --overwrite-original)")
    artwork = load_image(image_path)
    shape = artwork.pixels.shape[:2]
    source = load_mask(source_mask_path, shape)
    target = load_mask(target_mask_path, shape)
    result = manipulator.edit(artwork.pixels, source, target)
    save_image(output_path, result.image, icc_profile=artwork.icc_profile, exif=artwork.exif)
    return result
