"""File-level edits shared by ``simnet edit`` and ``simnet batch``: read, edit, write atomically."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from engine.errors import ImageWriteError
from engine.imageio import Artwork, load_image, load_mask, save_image

if TYPE_CHECKING:  # the restyle's file steps use this module without loading SIM-Net (torch)
    from engine.manipulator import EditResult, Manipulator


def same_file(first: Path, second: Path) -> bool:
    """True when both paths name one file (the second need not exist)."""
    try:
        return first.resolve() == second.resolve() or (second.exists() and os.path.samefile(first, second))
    except OSError:
        return False


def resolved_path(path: Path) -> Path:
    """``path`` made absolute with links resolved, as far as the file system allows."""
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


@dataclass
class EditInputs:
    """An artwork and its two masks, read and checked, ready for an edit."""

    artwork: Artwork
    source: np.ndarray
    target: np.ndarray
    output_path: Path


def read_inputs(image_path: str | Path, source_mask_path: str | Path, target_mask_path: str | Path,
                output_path: str | Path, *, overwrite_original: bool = False) -> EditInputs:
    """Read and check everything an edit needs before any model is loaded, so bad input fails fast.

    Writing over the input artwork itself is refused unless ``overwrite_original`` is set.
    """
    image_path, output_path = Path(image_path), Path(output_path)
    if same_file(image_path, output_path) and not overwrite_original:
        raise ImageWriteError(f"{output_path} is the original artwork; choose another output "
                              "(or pass --overwrite-original)")
    artwork = load_image(image_path)
    shape = artwork.pixels.shape[:2]
    return EditInputs(artwork, load_mask(source_mask_path, shape), load_mask(target_mask_path, shape), output_path)


def edit_inputs(manipulator: Manipulator, inputs: EditInputs, *, reach: float | None = None) -> EditResult:
    """Edit and write the result (colour profile and metadata carried over).

    The output is written to a temporary file and renamed, so a failure leaves no partial file
    and any previous file at the output path intact.
    """
    result = manipulator.edit(inputs.artwork.pixels, inputs.source, inputs.target, reach=reach)
    started = time.perf_counter()
    write_result(inputs, result)
    result.timings["write"] = time.perf_counter() - started
    return result


def write_result(inputs: EditInputs, result: EditResult) -> None:
    """Write an edit's result to the inputs' output path, atomically, with the artwork's colour
    profile and metadata."""
    save_image(inputs.output_path, result.image, icc_profile=inputs.artwork.icc_profile, exif=inputs.artwork.exif)


def edit_file(manipulator: Manipulator, image_path: str | Path, source_mask_path: str | Path,
              target_mask_path: str | Path, output_path: str | Path, *,
              overwrite_original: bool = False, reach: float | None = None) -> EditResult:
    """Read, edit and write one artwork file (see :func:`read_inputs` and :func:`edit_inputs`).

    The result's timings add "read" and "write" to the edit's own stages."""
    started = time.perf_counter()
    inputs = read_inputs(image_path, source_mask_path, target_mask_path, output_path,
                         overwrite_original=overwrite_original)
    read = time.perf_counter() - started
    result = edit_inputs(manipulator, inputs, reach=reach)
    result.timings["read"] = read
    return result
