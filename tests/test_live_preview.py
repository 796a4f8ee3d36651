"""The live edit: frames composed over the prepared plate while a Transform handle is dragged, the
fill prepared at selection time reused by Apply with identical pixels, and a drag on the real canvas
that shows the painting moving during the drag, not only after it."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from engine.live_preview import (PlateKey, bent_frame, drag_affine, fill_footprint, live_frame, prepare_live,
                                 shape_affine, then)
from engine.masks import region_affine, region_hash, transform_mask
from test_app import dialogs, isolated_settings, painting_with_disc, window  # noqa: F401 - fixtures


def painting(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Blue texture with a yellow striped disc (the region), and the disc."""
    return painting_with_disc(height, width, centre_x=0.35, radius=0.2)


def test_live_frame_moves_the_region_over_the_filled_plate() -> None:
    image, disc = painting(300, 400)
    live = prepare_live(image, disc, PlateKey(0, region_hash(disc)), max_side=200)
    assert live.scale == pytest.approx(0.5) and live.plate.shape == (150, 200, 3) and live.side == 200
    # The plate: where the disc was is filled with the blue surroundings, never the disc's yellow.
    cy, cx = 75, 70  # the disc's centre on the plate's grid
    assert live.plate[cy - 5:cy + 5, cx - 5:cx + 5, 2].mean() > 120 > live.plate[cy - 5:cy + 5, cx - 5:cx + 5, 0].mean()
    frame = live_frame(live, drag_affine((140.0, 150.0), 120.0, 0.0, 1.0, 0.0))  # 120 image px right
    x0, y0, x1, y1 = frame.box
    assert frame.patch.shape[:2] == (y1 - y0, x1 - x0)
    moved = frame.patch[cy - y0 - 5:cy - y0 + 5, cx + 60 - x0 - 5:cx + 60 - x0 + 5]
    vacated = frame.patch[cy - y0 - 5:cy - y0 + 5, cx - x0 - 5:cx - x0 + 5]
    assert moved[..., 0].mean() > 170 and moved[..., 2].mean() < 120  # the disc arrived
    assert vacated[..., 2].mean() > 120 > vacated[..., 0].mean()  # and left its place filled


def test_a_bent_frame_carries_the_region_as_its_map_says() -> None:
    image, disc = painting(300, 400)
    live = prepare_live(image, disc, PlateKey(0, region_hash(disc)), max_side=200)
    # A map that moves by 120 image px right gives the affine frame's picture (both lay the same layer over
    # the same plate; they differ only by the bent frame's interpolated map).
    shift = lambda points: points - np.array([120.0, 0.0])  # noqa: E731 - new place -> where it was
    bent = bent_frame(live, shift, (140 - 60 + 120, 150 - 60, 140 + 60 + 120, 150 + 60))
    moved = live_frame(live, drag_affine((140.0, 150.0), 120.0, 0.0, 1.0, 0.0))
    bx0, by0, bx1, by1 = bent.box
    mx0, my0, _, _ = moved.box
    region = moved.patch[by0 - my0:by1 - my0, bx0 - mx0:bx1 - mx0]
    assert region.shape == bent.patch.shape
    assert np.abs(region.astype(int) - bent.patch.astype(int)).mean() < 2.0


def test_a_quick_plate_comes_first_and_a_full_fill_is_reused_for_another_zoom() -> None:
    image, disc = painting(300, 400)
    key = PlateKey(0, region_hash(disc))
    firsts = []
    live = prepare_live(image, disc, key, max_side=200, quick=firsts.append)
    assert len(firsts) == 1 and firsts[0].fill is None and live.fill is not None
    cy, cx = 75, 70  # the disc's centre: already filled on the quick plate
    assert firsts[0].plate[cy - 5:cy + 5, cx - 5:cx + 5, 2].mean() > 120 > firsts[0].plate[cy - 5:cy + 5, cx - 5:cx + 5,
                                                                                            0].mean()
    again = prepare_live(image, disc, key, max_side=300, quick=firsts.append, fill=live.fill)
    assert again.fill is live.fill and len(firsts) == 1 and again.side == 300


def test_prepare_never_draws_on_the_painting() -> None:
    image, disc = painting(120, 160)
    before = image.copy()
    prepare_live(image, disc, PlateKey(0, region_hash(disc)), max_side=4000)  # scale 1: the plate is a copy
    np.testing.assert_array_equal(image, before)


def test_placement_of_a_transformed_shape() -> None:
    _, disc = painting(300, 400)
    square = np.zeros_like(disc)
    square[100:160, 80:200] = True  # as well matched turned half-way round: the least turn is taken
    affine = region_affine(square, dx=40, dy=-20, scale_x=1.2, scale_y=1.2, angle_degrees=15)
    found = shape_affine(square, transform_mask(square, affine))
    assert np.abs(found[:, :2] - affine[:, :2]).max() < 0.05 and np.abs(found[:, 2] - affine[:, 2]).max() < 4
    np.testing.assert_allclose(then(affine, np.array([[1.0, 0, 5], [0, 1, 0]]))[:, 2], affine[:, 2] + [5, 0])


def test_footprint_fill_is_used_only_for_its_own_hole() -> None:
    image, disc = painting(120, 160)
    fill = fill_footprint(image, disc)
    box = (0, 0, 160, 120)
    hole = np.zeros((120, 160), bool)
    x0, y0, x1, y1 = fill.box
    hole[y0:y1, x0:x1] = fill.hole
    np.testing.assert_array_equal(fill(image, hole, box)[y0:y1, x0:x1], fill.filled)
    assert fill.reused == 1
    other = hole.copy()
    other[0, 0] = True  # another hole: filled from scratch, the stored fill is not used
    fill(image, other, box)
    assert fill.reused == 1


@pytest.fixture(scope="module")
def manipulator():
    from engine.manipulator import Manipulator

    return Manipulator(None, device="cpu")


@pytest.mark.parametrize("move", [(60.0, 10.0, 1.0, 0.0), (30.0, -8.0, 1.15, 12.0)])
def test_apply_with_the_prepared_fill_equals_apply_without(manipulator, move) -> None:
    image, disc = painting(240, 320)
    target = transform_mask(disc, region_affine(disc, dx=move[0], dy=move[1], scale_x=move[2], scale_y=move[2],
                                                angle_degrees=move[3]))
    live = prepare_live(image, disc, PlateKey(0, region_hash(disc)), max_side=320)
    without = manipulator.edit(image, disc, target)
    reused = manipulator.edit(image, disc, target, fill=live.fill)
    assert without.mode == "transport" and live.fill.reused == 1
    np.testing.assert_array_equal(reused.image, without.image)
    np.testing.assert_array_equal(reused.warped_mask, without.warped_mask)


def test_a_stale_fill_is_not_used(manipulator) -> None:
    image, disc = painting(240, 320)
    other = np.roll(disc, 30, axis=0)  # the region changed since the fill was made
    fill = fill_footprint(image, disc)
    target = np.roll(other, 70, axis=1)
    reused = manipulator.edit(image, other, target, fill=fill)
    assert fill.reused == 0
    np.testing.assert_array_equal(reused.image, manipulator.edit(image, other, target).image)


def test_the_interactive_bench_measures_a_drag(manipulator) -> None:
    from engine.bench_interactive import measure_drag

    row = measure_drag(manipulator, 320, 240, frames=4, screen_side=200, repeats=1)
    assert row["screen_side"] == 200 and 0 < row["first_frame_ready_s"] <= row["prepare_s"]
    assert all(row[key] > 0 for key in ("frame_median_ms", "frame_p95_ms", "settle_s", "apply_after_preview_s",
                                        "apply_without_plate_s", "warp_frame_median_ms", "warp_frame_p95_ms",
                                        "warp_release_s"))


# -- the real canvas ---------------------------------------------------------------------------------
def test_a_drag_on_the_canvas_shows_the_painting_moving_during_the_drag(qtbot, window, tmp_path: Path) -> None:
    from app.canvas import Tool
    from engine.imageio import save_image

    image, disc = painting(300, 400)
    save_image(tmp_path / "painting.png", image)
    assert window.open_image(tmp_path / "painting.png")
    window.canvas.fit()
    window._set_region(disc)
    window._set_target(disc.copy())
    window.set_tool(Tool.TRANSFORM)
    qtbot.waitUntil(lambda: window.live.full_fill() is not None, timeout=60000)
    viewport, canvas = window.canvas.viewport(), window.canvas
    start = canvas.mapFromScene(QPointF(140, 150))  # inside the disc: a move
    frames, seen = [], set()
    QTest.mousePress(viewport, Qt.LeftButton, Qt.NoModifier, start)
    for step in range(1, 13):
        QTest.mouseMove(viewport, start + QPoint(round(step * 10 * canvas.zoom), 0))
        QTest.qWait(5)
        key = canvas.preview_item.pixmap().cacheKey() if canvas.preview_item.isVisible() else None
        frames.append(key)
        seen.add(key)
    # During the drag (before the release), the canvas showed a new frame at nearly every move.
    assert None not in seen and len(seen) >= 10, f"{len(seen)} distinct frames in 12 moves"
    # What the viewport shows: the disc's yellow where it was dragged to (120 px right), blue where it was.
    shown = viewport.grab().toImage()
    arrived = shown.pixelColor(canvas.mapFromScene(QPointF(140 + 120, 150)))
    left = shown.pixelColor(canvas.mapFromScene(QPointF(140 - 40, 150)))
    assert arrived.red() > 150 and arrived.blue() < 130, arrived.name()
    assert left.blue() > 110 and left.red() < 120, left.name()
    with qtbot.waitSignal(window.preview_shown, timeout=60000):
        QTest.mouseRelease(viewport, Qt.LeftButton, Qt.NoModifier, start + QPoint(round(120 * canvas.zoom), 0))
    assert window.live.drag_frames >= 10
    assert window.target_mask()[150, 140 + 120] and not window.target_mask()[150, 140 - 40]
    # Apply reuses the fill prepared at selection time, and makes the same edit as without it.
    fill = window.live.full_fill()
    assert fill is not None and fill.reused == 0
    region, target, before = window.region.copy(), window.target_mask().copy(), window.session.current.copy()
    with qtbot.waitSignal(window.edit_applied, timeout=60000):
        window.apply_action.trigger()
    assert fill.reused == 1
    expected = window._get_manipulator().edit(before, region, target, reach=window.settings.reach)
    np.testing.assert_array_equal(window.session.current, expected.image)
    # The plate is stale now (the image changed): it is not offered again.
    assert window.live.full_fill() is None or window.live.full_fill() is not fill

    def canvas_shows(image: np.ndarray) -> bool:
        shown = canvas.image_item.pixmap().toImage()
        return all(shown.pixelColor(x, y).getRgb()[:3] == tuple(int(v) for v in image[y, x])
                   for x, y in ((260, 150), (140, 150), (100, 150), (10, 10)))

    # Only the changed box of the canvas is redrawn after Apply, undo and redo: it shows the right image.
    assert canvas_shows(window.session.current) and not canvas_shows(before)
    window.undo_action.trigger()
    assert canvas_shows(before)
    window.redo_action.trigger()
    assert canvas_shows(expected.image)


def test_a_history_step_made_within_the_edits_box_is_the_same_step() -> None:
    from engine.session import make_step

    image, disc = painting(120, 160)
    edited = image.copy()
    edited[40:70, 50:90] = 255 - edited[40:70, 50:90]
    whole = make_step(image, edited, disc, disc)
    within = make_step(image, edited, disc, disc, within=(30, 20, 120, 100))
    assert whole.box == within.box == (50, 40, 90, 70)
    assert (whole.before, whole.after, whole.source_mask, whole.target_mask) == (
        within.before, within.after, within.source_mask, within.target_mask)
    assert make_step(image, image.copy(), disc, disc, within=(0, 0, 0, 0)) is None


def test_transforming_a_mask_inside_its_box_gives_the_whole_canvas_warp() -> None:
    """transform_mask resamples only the mask's box (the release of an 8K drag); the result is
    the warp of the whole canvas, pixel for pixel, also for parts leaving the canvas."""
    import cv2

    rng = np.random.default_rng(1)
    for _ in range(30):
        height, width = (int(v) for v in rng.integers(40, 300, 2))
        ys, xs = np.mgrid[0:height, 0:width]
        mask = ((xs - rng.uniform(0, width)) / rng.uniform(3, width / 2)) ** 2 + \
               ((ys - rng.uniform(0, height)) / rng.uniform(3, height / 2)) ** 2 < 1
        if not mask.any():
            continue
        affine = region_affine(mask, dx=rng.uniform(-width / 2, width / 2), dy=rng.uniform(-height / 2, height / 2),
                               scale_x=rng.uniform(0.3, 2), scale_y=rng.uniform(0.3, 2),
                               angle_degrees=rng.uniform(-180, 180))
        whole = cv2.warpAffine(mask.astype(np.float32), affine, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0) >= 0.5
        np.testing.assert_array_equal(transform_mask(mask, affine), whole)


@pytest.mark.parametrize("kind", ["grey16", "rgba8"])
def test_other_pixel_kinds_get_live_frames_and_the_same_apply(manipulator, kind) -> None:
    image, disc = painting(160, 200)
    if kind == "grey16":
        image = (image[..., :1].astype(np.uint16) * 257)
    else:
        image = np.concatenate([image, np.full(image.shape[:2] + (1,), 200, np.uint8)], axis=2)
    live = prepare_live(image, disc, PlateKey(0, region_hash(disc)), max_side=100)
    frame = live_frame(live, drag_affine((70.0, 80.0), 50.0, 0.0, 1.0, 0.0))
    assert frame.patch.dtype == np.uint8 and frame.patch.shape[2] == 3  # shown as 8-bit RGB
    target = np.roll(disc, 50, axis=1)
    reused = manipulator.edit(image, disc, target, fill=live.fill)
    assert live.fill.reused == 1 and reused.image.dtype == image.dtype
    np.testing.assert_array_equal(reused.image, manipulator.edit(image, disc, target).image)
