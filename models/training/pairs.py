"""Training pairs: a photo region, a synthetic edit of it, and the known true result, as the
network sees them (the influence square at working resolution)."""
from __future__ import annotations

import cv2
import numpy as np

from models.crops import image_to_working, mask_to_working, pixels_to_grid, working_positions
from models.deformation import EditKind, identity_map, make_synthetic_edit, warp_with_map
from models.influence import influence_box


def make_pair(image: np.ndarray, region: np.ndarray, rng: np.random.Generator, kind: EditKind,
              size: int) -> dict[str, np.ndarray] | None:
    """One pair as float32 arrays: source/target masks (1,S,S), image/target_image (3,S,S),
    true_field (S,S,2) in grid coordinates. None when the edit leaves too little of the region."""
    edit = make_synthetic_edit(region, rng, kind)
    if edit.target_mask.sum() < 0.3 * region.sum():
        return None
    x0, y0, side = influence_box(edit.source_mask, edit.target_mask)
    target_image = warp_with_map(image, edit.backward_map)
    displacement = edit.backward_map - identity_map(*region.shape)
    xs, ys = working_positions(x0, y0, side, size)
    sampled = cv2.remap(displacement, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    true_field = pixels_to_grid(xs + sampled[..., 0], ys + sampled[..., 1], x0, y0, side)
    chw = lambda array: np.ascontiguousarray(array.transpose(2, 0, 1))  # noqa: E731
    return {
        "source_mask": chw(mask_to_working(edit.source_mask, x0, y0, side, size)),
        "target_mask": chw(mask_to_working(edit.target_mask, x0, y0, side, size)),
        "image": chw(image_to_working(image, x0, y0, side, size)),
        "target_image": chw(image_to_working(target_image, x0, y0, side, size)),
        "true_field": true_field.astype(np.float32),
    }
