"""Mask outlines as the canvas draws them (app/canvas_items.OutlineItem: as traced up close, simplified zoomed out),
and the mask comparison the editor makes often (engine.masks.masks_equal)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QColor

from app.canvas_items import OutlineItem
from app.convert import path_to_polygons, polygons_to_path
from engine.masks import outline_polygons, simplified_polygons


def _ragged_mask() -> np.ndarray:
    """A blob with a ragged edge (many pixel steps) and a few specks: a click's answer on brushwork."""
    rng = np.random.default_rng(2)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (600, 900)).astype(np.float32), (0, 0), 3)
    mask = np.zeros((600, 900), np.uint8)
    cv2.ellipse(mask, (450, 300), (350, 220), 0, 0, 360, 1, -1)
    return (cv2.GaussianBlur(mask.astype(np.float32), (0, 0), 12) + 0.15 * noise) > 0.5


def _distance_to(outline: list[np.ndarray], points: np.ndarray) -> np.ndarray:
    """Each point's distance to the nearest segment of the closed polygons."""
    starts = np.concatenate(outline)
    ends = np.concatenate([np.roll(polygon, -1, axis=0) for polygon in outline])
    best = np.full(len(points), np.inf)
    for first in range(0, len(starts), 2000):
        a, b = starts[first:first + 2000], ends[first:first + 2000]
        along = b - a
        t = np.clip(((points[:, None] - a[None]) * along[None]).sum(-1) / np.maximum((along ** 2).sum(-1), 1e-9),
                    0, 1)
        nearest = a[None] + t[..., None] * along[None]
        best = np.minimum(best, np.sqrt(((points[:, None] - nearest) ** 2).sum(-1)).min(axis=1))
    return best


def test_a_simplified_outline_stays_within_its_tolerance() -> None:
    polygons = outline_polygons(_ragged_mask())
    simple = simplified_polygons(polygons, 2.0)
    assert len(simple) == len(polygons)
    assert sum(map(len, simple)) < 0.5 * sum(map(len, polygons))
    # Both ways: no simplified corner strays from the traced outline, no traced point from the simplified one.
    assert _distance_to(polygons, np.concatenate(simple)).max() <= 2.0 + 1e-6
    assert _distance_to(simple, np.concatenate(polygons)).max() <= 2.0 + 1e-6


@pytest.mark.parametrize("scale, tolerance", [(1.0, 0.0), (0.5, 0.0), (0.3, 1.0), (0.1, 4.0)])
def test_the_outline_is_drawn_as_traced_up_close_and_simplified_zoomed_out(qapp, scale: float,
                                                                            tolerance: float) -> None:
    """Zoomed out, an 8K sky's outline of 20,000 points took 0.3 s to draw, at every repaint; simplified to within
    half a screen pixel it looks the same."""
    polygons = outline_polygons(_ragged_mask())
    item = OutlineItem(QColor(255, 0, 0))
    item.setPath(polygons_to_path(polygons))
    drawn = path_to_polygons(item._path_at(scale))
    if tolerance == 0.0:
        assert sum(map(len, drawn)) == sum(map(len, polygons))
        return
    assert sum(map(len, drawn)) < 0.6 * sum(map(len, polygons))
    assert _distance_to(polygons, np.concatenate(drawn)).max() <= tolerance + 1e-6
    item.setPath(polygons_to_path(polygons[:1]))  # a new outline: nothing drawn from the old one
    assert len(path_to_polygons(item._path_at(scale))) == 1


def test_masks_compare_alike_whatever_their_layout() -> None:
    from engine.masks import masks_equal
    mask = _ragged_mask()
    other = mask.copy()
    assert masks_equal(mask, other)
    other[599, 899] = not other[599, 899]  # the last pixel
    assert not masks_equal(mask, other)
    assert masks_equal(mask[:, 1:], mask[:, 1:].copy())  # not contiguous
    assert not masks_equal(mask[:599], mask[1:])  # neither
    assert not masks_equal(mask[:8, :7], mask[:7, :8])  # shapes
    assert masks_equal(mask[:3, :3], mask[:3, :3].copy())  # 9 pixels
