"""The Restyle panel's exemplar view (app/exemplar_view.py): the picked region stays visible when shrunk."""
from __future__ import annotations

import numpy as np

from app.canvas import EXEMPLAR_COLOUR
from app.exemplar_view import VIEW_SIDE, ExemplarView


def _near_exemplar_colour(view: ExemplarView) -> np.ndarray:
    """Which pixels of the view's picture are within 40 RGB levels of the exemplar outline's colour."""
    image = view.pixmap().toImage().convertToFormat(view.pixmap().toImage().Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    rgb = pixels[:, :image.width() * 3].reshape(image.height(), image.width(), 3).astype(int)
    return np.linalg.norm(rgb - np.array(EXEMPLAR_COLOUR.getRgb()[:3]), axis=2) <= 40


def test_a_small_region_of_a_large_exemplar_is_outlined_where_it_lies(qtbot) -> None:
    """A 12 x 12 px region of a 2400 x 1600 busy painting is under 2 px in the 260 px view: a tint alone
    vanishes into the paint, so its outline is drawn at the view's size."""
    view = ExemplarView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    painting = rng.integers(0, 256, (1600, 2400, 3), dtype=np.uint8)
    painting[..., 2] //= 3  # no blue as strong as the outline's
    view.set_image(painting)
    assert view.pixmap().width() == VIEW_SIDE and not _near_exemplar_colour(view).any()
    region = np.zeros((1600, 2400), bool)
    region[800:812, 1200:1212] = True
    view.show_region(region)
    shown = _near_exemplar_colour(view)
    ys, xs = np.nonzero(shown)
    scale = VIEW_SIDE / 2400
    assert shown.sum() >= 6
    assert abs(xs.mean() - 1206 * scale) <= 3 and abs(ys.mean() - 806 * scale) <= 3
    view.show_region(None)
    assert not _near_exemplar_colour(view).any()
