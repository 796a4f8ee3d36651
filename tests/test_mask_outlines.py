"""Mask outlines as the canvas draws them (app/canvas_items.OutlineItem: as traced up close, simplified zoomed out),
and the mask comparison the editor makes often (engine.masks.masks_equal)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PySide6.QtGui import QColor

from app.canvas_items import OutlineItem
from app.convert import path_to_polygons, polygons_to_path
from engine.masks import dashed_polylines, outline_polygons, simplified_polygons


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
    drawn = path_to_polygons(item._paths_at(scale)[0])
    if tolerance == 0.0:
        assert sum(map(len, drawn)) == sum(map(len, polygons))
        return
    assert sum(map(len, drawn)) < 0.6 * sum(map(len, polygons))
    assert _distance_to(polygons, np.concatenate(drawn)).max() <= tolerance + 1e-6
    item.setPath(polygons_to_path(polygons[:1]))  # a new outline: nothing drawn from the old one
    assert len(path_to_polygons(item._paths_at(scale)[0])) == 1


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


def test_an_outline_is_cut_into_dashes_along_its_length() -> None:
    """A 100 px square at 2 screen pixels an image pixel, 8 px dashes and 6 px gaps on screen: 58 dashes (800 /
    14, rounded up), each 4 image px along the square (the last one shorter), starting every 7, on its sides."""
    square = np.array([[0, 0], [100, 0], [100, 100], [0, 100]], np.float64)
    dashes = dashed_polylines([square], 8.0, 6.0, 2.0)
    assert len(dashes) == 58
    lengths = [np.hypot(*np.diff(dash, axis=0).T).sum() for dash in dashes]
    np.testing.assert_allclose(lengths[:-1], 4.0, atol=1e-9)
    assert 0 < lengths[-1] <= 4.0
    np.testing.assert_allclose(dashes[1][0], [7.0, 0.0])
    np.testing.assert_allclose(dashes[14], [[98.0, 0.0], [100.0, 0.0], [100.0, 2.0]])  # round the corner
    on_a_side = np.concatenate(dashes)
    assert (np.isclose(on_a_side, 0) | np.isclose(on_a_side, 100)).any(axis=1).all()


def test_a_dashed_outline_dashes_its_line_and_its_halo_alike(qapp) -> None:
    """Drawn fast zoomed out (one-pixel lines side by side over a halo without smoothing), a dashed outline still
    shows 8 px dashes and 6 px gaps of its colour, each on its dark halo, and the painting in the gaps."""
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtWidgets import QStyleOptionGraphicsItem

    item = OutlineItem(QColor(0, 255, 0), dashed=True)  # an outline 4x as large, drawn at a quarter of its size
    item.setPath(polygons_to_path([np.array([[10.0, 20.0], [290.0, 20.0], [290.0, 200.0], [10.0, 200.0]]) * 4]))
    image = QImage(300, 40, QImage.Format_ARGB32)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    painter.scale(0.25, 0.25)
    item.paint(painter, QStyleOptionGraphicsItem())
    painter.end()
    row = np.array([image.pixelColor(x, 19).getRgb()[:3] for x in range(12, 150)])
    green = (row[:, 1] > 150) & (row[:, 0] < 100)
    runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[0], green.astype(int), [0]]))))
    assert green[0]  # the row starts within the first dash (10 to 18)
    on, off = runs[2::2][:-1], runs[1::2][1:-1]  # whole dashes, and the gaps between them
    assert len(on) >= 5 and np.abs(on - 8).max() <= 1 and np.abs(off - 6).max() <= 1
    above = np.array([image.pixelColor(x, 18).getRgb()[:3] for x in range(12, 150)])  # the halo's edge row
    assert (above[green].max(axis=1) < 200).mean() > 0.8  # darkened beside the dashes
    assert (above[~green].min(axis=1) > 200).mean() > 0.6  # the painting in most of the gaps
