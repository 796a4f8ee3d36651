"""The fills ``simnet eval-fill`` compares, each with ``engine.fill.fill_window``'s signature:
``fill(image, hole, box, forbidden=...) -> image[box]`` with the hole filled.

- ``ours``: the shipped fill (``engine.fill``, multi-scale patch synthesis).
- ``PatchMatch``: Barnes et al. 2009's inpainting as packaged by PyPatchMatch (MIT, an optional
  evaluation dependency: ``pip install pypatchmatch``), 7x7 patches, on the whole image, with the
  forbidden pixels neither filled nor read (its ``global_mask``): what Content-Aware Fill does.
- ``Telea``: OpenCV's fast-marching inpainting (radius 5); forbidden pixels are inpainted too, so
  they are never read.
- ``before``: the fill this project shipped before (``engine.fill``'s ``"shift-map"``).
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from engine.fill import fill_window

Fill = Callable[..., np.ndarray]
Box = tuple[int, int, int, int]


def _whole(image: np.ndarray, mask: np.ndarray, box: Box) -> np.ndarray:
    """A mask over ``box`` placed on the whole image."""
    x0, y0, x1, y1 = box
    out = np.zeros(image.shape[:2], bool)
    out[y0:y1, x0:x1] = mask
    return out


def ours(image: np.ndarray, hole: np.ndarray, box: Box, *, forbidden: np.ndarray | None = None) -> np.ndarray:
    return fill_window(image, hole, box, forbidden=forbidden, method="patch")


def before(image: np.ndarray, hole: np.ndarray, box: Box, *, forbidden: np.ndarray | None = None) -> np.ndarray:
    return fill_window(image, hole, box, forbidden=forbidden, method="shift-map")


def telea(image: np.ndarray, hole: np.ndarray, box: Box, *, forbidden: np.ndarray | None = None) -> np.ndarray:
    x0, y0, x1, y1 = box
    unknown = hole if forbidden is None else hole | forbidden
    margin = 16
    cx0, cy0 = max(0, x0 - margin), max(0, y0 - margin)
    cx1, cy1 = min(image.shape[1], x1 + margin), min(image.shape[0], y1 + margin)
    crop = image[cy0:cy1, cx0:cx1]
    mask = _whole(image, unknown, box)[cy0:cy1, cx0:cx1].astype(np.uint8)
    painted = cv2.inpaint(crop, mask, 5, cv2.INPAINT_TELEA).reshape(crop.shape)
    result = image[y0:y1, x0:x1].copy()
    inner = painted[y0 - cy0:y1 - cy0, x0 - cx0:x1 - cx0]
    result[hole] = inner[hole]
    return result


def patchmatch_available() -> bool:
    try:
        import patchmatch
    except ImportError:
        return False
    return bool(patchmatch.patchmatch_available)


def patchmatch(image: np.ndarray, hole: np.ndarray, box: Box, *, forbidden: np.ndarray | None = None) -> np.ndarray:
    import patchmatch as library

    x0, y0, x1, y1 = box
    library.set_random_seed(0)
    whole_hole = _whole(image, hole, box)
    keep = None if forbidden is None else _whole(image, forbidden & ~hole, box).astype(np.uint8)
    painted = library.inpaint(np.ascontiguousarray(image[..., :3]), whole_hole.astype(np.uint8), global_mask=keep,
                              patch_size=3)
    result = image[y0:y1, x0:x1].copy()
    result[hole] = painted[y0:y1, x0:x1][hole]
    return result


def fill_methods(include_patchmatch: bool = True) -> dict[str, Fill]:
    """The compared fills by row name (PatchMatch only when its library is installed and wanted)."""
    methods: dict[str, Fill] = {"ours": ours}
    if include_patchmatch and patchmatch_available():
        methods["PatchMatch"] = patchmatch
    methods["Telea"] = telea
    methods["before (shift-map)"] = before
    return methods
