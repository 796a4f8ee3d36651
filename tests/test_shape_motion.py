"""How the new shape came from the region (engine/shape_motion.py), and edits bent by pins follow them."""
from __future__ import annotations

import numpy as np
import pytest

from engine.document import Document, StepKind
from engine.mask_warp import pin_warp
from engine.masks import region_affine, transform_mask
from engine.session import EditSession
from engine.shape_motion import Affine, Pins, ShapeMotion


def bar(height: int = 200, width: int = 320) -> np.ndarray:
    mask = np.zeros((height, width), bool)
    mask[90:120, 40:280] = True
    return mask


def test_moves_are_undone_newest_first() -> None:
    affine = Affine(((1.0, 0.0, 15.0), (0.0, 1.0, -4.0)))
    pins = Pins(((50.0, 100.0), (270.0, 100.0)), ((50.0, 100.0), (260.0, 60.0)))
    motion = ShapeMotion().then(affine).then(pins)
    assert motion.bent_by_pins and not ShapeMotion((affine,)).bent_by_pins
    np.testing.assert_allclose(motion.reads(np.array([[260.0, 60.0]])), [[255.0, 104.0]], atol=1e-6)


def test_the_grid_motion_reads_where_the_pins_came_from() -> None:
    pins = Pins(((100.0, 100.0), (200.0, 100.0), (300.0, 100.0)), ((100.0, 100.0), (200.0, 100.0), (300.0, 40.0)))
    size = 100
    for scale in (1.0, 0.5):
        motion = ShapeMotion((pins,)).grid_motion((0, 0, round(400 * scale)), size, scale)
        centre = lambda x: round((x * scale + 0.5) * size / (400 * scale) - 0.5)  # noqa: E731
        # the grid cell nearest the dragged pin's new place reads (close to) its old place
        cell = (centre(40.0), centre(300.0))
        cell_x = (cell[1] + 0.5) * 400 * scale / size - 0.5
        cell_y = (cell[0] + 0.5) * 400 * scale / size - 0.5
        read = np.array([cell_x, cell_y]) + motion[cell[0], cell[1]]
        assert np.hypot(*(read / scale - [300.0, 100.0])) < 3.0


@pytest.fixture()
def document() -> Document:
    from engine.imageio import Artwork

    pixels = np.zeros((200, 320, 3), np.uint8)
    return Document(EditSession(Artwork(pixels=pixels, source_format="PNG")))


def test_the_document_knows_transforms_and_warps_and_forgets_a_stroke(document: Document) -> None:
    document.select(bar())
    assert document.shape_motion == ShapeMotion()
    affine = region_affine(document.target, dx=10.0)
    document.change_target(transform_mask(document.target, affine), StepKind.TRANSFORM, "Transform",
                           Affine(tuple(tuple(float(v) for v in row) for row in affine)))
    before, after = [(60.0, 105.0), (280.0, 105.0)], [(60.0, 105.0), (270.0, 70.0)]
    document.change_target(pin_warp(document.target, before, after), StepKind.WARP, "Warp",
                           Pins(tuple(before), tuple(after)))
    known = document.shape_motion
    assert known is not None and len(known.steps) == 2 and known.bent_by_pins
    stroked = document.target.copy()
    stroked[10:20, 10:20] = True
    document.change_target(stroked, StepKind.STROKE, "Brush")
    assert document.shape_motion is None  # a stroke: the masks alone say how
    document.undo()
    assert document.shape_motion == known  # undo finds the bent shape's moves again


def test_an_edit_bent_by_pins_follows_them() -> None:
    from engine.manipulator import Manipulator
    from engine.render import sample_motion

    rng = np.random.default_rng(0)
    image = (rng.random((200, 320, 3)) * 255).astype(np.uint8)
    source = bar()
    before = [(50.0, 105.0), (160.0, 105.0), (270.0, 105.0)]
    after = [(50.0, 105.0), (160.0, 105.0), (262.0, 55.0)]
    target = pin_warp(source, before, after)
    motion = ShapeMotion((Pins(tuple(before), tuple(after)),))
    manipulator = Manipulator(device="cpu")
    for kwargs in ({}, {"max_side": 160}):
        result = manipulator.edit(image, source, target, shape_motion=motion, **kwargs)
        scale = 160 / 320 if kwargs else 1.0
        for (fx, fy), (tx, ty) in zip(before, after):
            dx, dy = sample_motion(result.displacement, result.square, np.array([tx * scale], np.float32),
                                   np.array([ty * scale], np.float32))
            assert np.hypot(tx * scale + dx[0, 0] - fx * scale, ty * scale + dy[0, 0] - fy * scale) / scale < 1.5


def test_the_turn_of_transform_moves_and_the_box_in_that_frame() -> None:
    """``turned_degrees`` is the rotation of the composed Transform moves (scales along the turned frame do not
    change it; a Warp leaves no frame); ``turned_box`` is the box that, turned so, hugs the shape."""
    from engine.masks import turned_box

    bar = np.zeros((200, 240), bool)
    bar[90:110, 60:180] = True
    first = region_affine(bar, angle_degrees=25.0)
    second = region_affine(bar, angle_degrees=10.0, scale_x=1.5, frame_degrees=25.0, dx=4.0)
    motion = ShapeMotion((Affine(tuple(map(tuple, first))), Affine(tuple(map(tuple, second)))))
    assert motion.turned_degrees == pytest.approx(35.0, abs=1e-6)
    assert ShapeMotion().turned_degrees == 0.0
    assert motion.then(Pins(((0.0, 0.0),), ((1.0, 1.0),))).turned_degrees == 0.0
    turned = transform_mask(bar, region_affine(bar, angle_degrees=35.0))
    ys, xs = np.nonzero(turned)
    centre = (float(xs.mean()), float(ys.mean()))
    x0, y0, x1, y1 = turned_box(turned, centre, 35.0)
    assert x1 - x0 == pytest.approx(120, abs=3) and y1 - y0 == pytest.approx(20, abs=3)  # the bar's own box
    assert turned_box(bar, (120.0, 100.0), 0.0) == (60.0, 90.0, 180.0, 110.0)
    assert turned_box(np.zeros((5, 5), bool), (0.0, 0.0), 10.0) is None
