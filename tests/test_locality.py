"""Edits change the region, its new shape and a transition band of width ``reach``; nothing farther.

Also: the maps never fold, the vacated area is filled from around it (no ghost of the old region),
and the alignment starts from classical hypotheses so a plain move or turn is exact.
"""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from engine.compose import bend_jacobian
from engine.errors import EditError
from engine.fill import fill_hole, fill_window
from engine.locality import default_reach, distance_outside, edit_area, edit_box, smoothstep_falloff
from engine.affine_polish import PolishCrop, exact_move_judge
from engine.manipulator import Manipulator
from models.hypotheses import classical_starts, mask_iou, moment_affines, overlap_translation
from models.refinement import fold_free, jacobian_determinant


@pytest.fixture(scope="module")
def manipulator() -> Manipulator:
    return Manipulator(device="cpu")


def painting(height: int, width: int, seed: int = 0) -> np.ndarray:
    """Brush-like strokes: oriented noise, so copies and smears are easy to tell apart."""
    rng = np.random.default_rng(seed)
    noise = rng.random((height, width, 3)).astype(np.float32)
    strokes = cv2.GaussianBlur(noise, (0, 0), sigmaX=6, sigmaY=1.5)
    ys, xs = np.mgrid[0:height, 0:width]
    base = np.stack([np.sin(xs / 17.0), np.cos(ys / 23.0), np.sin((xs + ys) / 31.0)], axis=-1) * 0.25 + 0.5
    return np.clip((base + (strokes - 0.5) * 2.0) * 255, 0, 255).astype(np.uint8)


def ellipse(height: int, width: int, cx: float, cy: float, rx: float, ry: float, angle: float = 0.0) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    cv2.ellipse(mask, ((cx, cy), (2 * rx, 2 * ry), angle), 1, -1)
    return mask > 0


def test_edit_area_is_the_band_around_both_masks() -> None:
    source = ellipse(120, 160, 50, 60, 20, 12)
    target = ellipse(120, 160, 100, 60, 20, 12)
    area = edit_area(source, target, 10.0)
    distance = distance_outside(source | target)
    assert area[source | target].all()
    np.testing.assert_array_equal(area, distance <= 10.0)
    x0, y0, x1, y1 = edit_box(source, target, 10.0)
    assert not area[:, :x0].any() and not area[:, x1:].any() and not area[:y0].any() and not area[y1:].any()
    assert default_reach(source, target) >= 4.0
    # where the painting's size is known the reach is at least the rim's floor (engine.matte's band has it too):
    # 8 px up to 1000 px, growing as the square root of the size beyond
    from engine.locality import rim_floor
    assert rim_floor(160) == rim_floor(1000) == 8.0 and rim_floor(4000) == pytest.approx(16.0)
    assert default_reach(source, target, image_side=4000) == pytest.approx(16.0)
    assert default_reach(source, target, image_side=160) == max(8.0, default_reach(source, target))


@pytest.mark.parametrize("reach", [None, 3.0, 25.0])
def test_nothing_beyond_the_reach_changes(manipulator: Manipulator, reach: float | None) -> None:
    image = painting(160, 220)
    source = ellipse(160, 220, 70, 80, 28, 18, 10)
    target = ellipse(160, 220, 140, 70, 30, 20, 40)  # moved far, turned and grown
    result = manipulator.edit(image, source, target, reach=reach)
    if reach is None:  # the default, grown by how far the region stops short of an edge (engine.shortfall)
        from engine.matte import rim_shortfall
        from models.influence import mask_bbox
        x0, y0, x1, y1 = mask_bbox(source)
        used = default_reach(source, target, max(source.shape)) + rim_shortfall(image, source[y0:y1, x0:x1],
                                                                                (x0, y0, x1, y1))
    else:
        used = reach
    assert result.reach == pytest.approx(used)
    outside = ~edit_area(source, target, used)
    np.testing.assert_array_equal(result.image[outside], image[outside])
    assert not np.array_equal(result.image, image)


def test_a_wider_reach_changes_more_of_the_painting(manipulator: Manipulator) -> None:
    image = painting(160, 220, seed=1)
    source = ellipse(160, 220, 90, 80, 26, 18)
    target = ellipse(160, 220, 100, 82, 26, 18)
    narrow = manipulator.edit(image, source, target, reach=4.0)
    wide = manipulator.edit(image, source, target, reach=40.0)
    changed = lambda result: np.any(result.image != image, axis=2).sum()  # noqa: E731
    assert changed(wide) > changed(narrow)


def test_chained_edits_leave_everything_beyond_their_reach_bit_identical(manipulator: Manipulator) -> None:
    image = painting(150, 200, seed=2)
    first_source, first_target = ellipse(150, 200, 60, 60, 20, 14), ellipse(150, 200, 80, 70, 20, 14, 25)
    second_source, second_target = ellipse(150, 200, 140, 100, 16, 16), ellipse(150, 200, 150, 90, 18, 14)
    once = manipulator.edit(image, first_source, first_target, reach=6.0)
    twice = manipulator.edit(once.image, second_source, second_target, reach=6.0)
    untouched = ~(edit_area(first_source, first_target, 6.0) | edit_area(second_source, second_target, 6.0))
    np.testing.assert_array_equal(twice.image[untouched], image[untouched])


def test_negative_reach_is_refused(manipulator: Manipulator) -> None:
    image = painting(60, 60)
    with pytest.raises(EditError, match="reach"):
        manipulator.edit(image, ellipse(60, 60, 25, 30, 8, 8), ellipse(60, 60, 35, 30, 8, 8), reach=-1.0)


def test_a_far_move_leaves_no_ghost_in_the_vacated_area(manipulator: Manipulator) -> None:
    """A red disc on a green-blue painting moved far away: where it was, no red remains."""
    image = painting(180, 260, seed=3)
    image[..., 0] //= 4  # the painting has almost no red...
    source = ellipse(180, 260, 60, 90, 24, 24)
    image[source] = (230, 30, 30)  # ...except the disc
    target = ellipse(180, 260, 190, 90, 24, 24)
    result = manipulator.edit(image, source, target)
    assert result.mode == "transport"
    vacated = source & ~target
    assert (result.image[vacated][:, 0] > 150).mean() < 0.01
    assert (result.image[target][:, 0] > 150).mean() > 0.95  # the disc arrived whole
    # The fill is the painting's own texture, not a flat smear: it varies like its surroundings.
    ring = (distance_outside(source) > 4) & (distance_outside(source) < 30)
    assert result.image[vacated].std(axis=0).mean() > 0.4 * image[ring].std(axis=0).mean()


def test_fill_changes_only_the_hole_and_keeps_the_strokes_detail() -> None:
    image = painting(120, 140, seed=4)
    hole = ellipse(120, 140, 70, 60, 18, 14)
    filled = fill_hole(image, hole)
    np.testing.assert_array_equal(filled[~hole], image[~hole])
    assert not np.array_equal(filled[hole], image[hole])
    # The fill keeps the strokes' fine detail instead of smearing it (Telea's inpainting would not).
    # (That its pixels are the painting's own copies is tested in tests/test_fill.py on a painting
    # whose copies need no healing: here the healing correction shifts them by a smooth offset.)
    detail = lambda picture: np.abs(cv2.Laplacian(picture.astype(np.float32), cv2.CV_32F))  # noqa: E731
    inner = cv2.erode(hole.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    ring = (distance_outside(hole) > 2) & (distance_outside(hole) < 20)
    assert detail(filled)[inner].mean() > 0.6 * detail(image)[ring].mean()
    smeared = cv2.inpaint(image, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)
    assert detail(smeared)[inner].mean() < 0.6 * detail(image)[ring].mean()  # the check can tell a smear


def test_a_window_is_filled_exactly_as_the_whole_image_would_be() -> None:
    """The edit fills only its box (its cost then follows the hole, not the canvas), yet it reads
    the painting around the box and gives the very pixels the whole-image fill gives."""
    image = painting(120, 140, seed=5)
    hole = ellipse(120, 140, 70, 60, 18, 14)
    box = (48, 40, 95, 80)  # x0, y0, x1, y1: tight around the hole, so the context lies outside it
    window = fill_window(image, hole[40:80, 48:95], box)
    np.testing.assert_array_equal(window, fill_hole(image, hole)[40:80, 48:95])
    untouched = image.copy()
    np.testing.assert_array_equal(fill_window(image, np.zeros((40, 47), bool), box), untouched[40:80, 48:95])
    np.testing.assert_array_equal(image, untouched)


def test_smoothstep_falloff_ends_at_the_reach() -> None:
    distance = np.array([0.0, 5.0, 10.0, 12.0], np.float32)
    np.testing.assert_allclose(smoothstep_falloff(distance, 10.0), [1.0, 0.5, 0.0, 0.0])


def test_a_move_larger_than_the_reach_is_not_bent() -> None:
    """Bending the surroundings by 40 pixels over a 10-pixel band would fold them: the fold check
    refuses it, while a 2-pixel nudge over the same band bends cleanly."""
    source = ellipse(200, 200, 100, 100, 20, 20)
    far = np.zeros((64, 64, 2), np.float32)
    far[..., 0] = -40.0
    near = np.zeros((64, 64, 2), np.float32)
    near[..., 0] = -2.0
    square, box = (0, 0, 200), (0, 0, 200, 200)
    assert bend_jacobian(source, np.roll(source, 40, axis=1), far, square, box, 10.0) < 0
    assert bend_jacobian(source, np.roll(source, 2, axis=1), near, square, box, 10.0) > 0.5


def test_every_composed_map_has_a_positive_jacobian(manipulator: Manipulator) -> None:
    """For edits of several kinds, the map that carries the region (and, when bending, its
    surroundings) has a positive Jacobian determinant everywhere near the new shape."""
    image = painting(160, 200, seed=5)
    cases = [(ellipse(160, 200, 70, 80, 25, 15), ellipse(160, 200, 130, 80, 25, 15, 30)),  # move and turn
             (ellipse(160, 200, 100, 80, 30, 20), ellipse(160, 200, 100, 80, 18, 12)),  # shrink
             (ellipse(160, 200, 100, 80, 20, 20), ellipse(160, 200, 100, 80, 20, 20) | ellipse(160, 200, 122, 80, 10, 10))]
    for source, target in cases:
        result = manipulator.edit(image, source, target)
        x0, y0, side = result.square
        motion = result.displacement
        spacing = side / motion.shape[0]  # full-resolution pixels per grid cell
        if result.mode == "bend":
            assert bend_jacobian(source, target, motion, result.square, result.box, result.reach) > 0
        # The layer's own map z + motion(z), on the grid cells over the new shape and its band.
        cells = ((np.arange(motion.shape[0]) + 0.5) * spacing - 0.5).astype(int)
        rows, cols = np.clip(cells + y0, 0, 159), np.clip(cells + x0, 0, 199)
        near = edit_area(target, target, result.reach)[np.ix_(rows, cols)]
        ddx_dy, ddx_dx = np.gradient(motion[..., 0], spacing)
        ddy_dy, ddy_dx = np.gradient(motion[..., 1], spacing)
        determinant = (1 + ddx_dx) * (1 + ddy_dy) - ddx_dy * ddy_dx
        assert determinant[near].min() > 0


def test_fold_guard_scales_back_only_the_folding_part() -> None:
    size = 32
    rigid = torch.zeros(1, size, size, 2)
    folding = torch.zeros(1, size, size, 2)
    folding[0, :, size // 2:, 0] = -0.5  # a step in the field: the right half jumps left, over the left half
    target = torch.zeros(1, 1, size, size)
    target[..., 8:24, 8:24] = 1
    assert jacobian_determinant(folding).min() < 0
    guarded = fold_free(rigid, folding, target)
    assert jacobian_determinant(guarded).min() >= 0.2 - 1e-5
    assert guarded.abs().max() > 0  # some of the motion is kept


def test_moment_affines_include_the_true_turn() -> None:
    source = ellipse(128, 128, 50, 64, 30, 12, 0)
    target = ellipse(128, 128, 76, 60, 30, 12, 35)
    best = max(moment_affines(source.astype(np.float32), target.astype(np.float32)),
               key=lambda affine: mask_iou(source, target, affine))
    assert mask_iou(source, target, best) > 0.9
    for affine in moment_affines(source.astype(np.float32), target.astype(np.float32)):
        assert np.linalg.det(affine[:, :2]) > 0  # never a mirror image


def test_classical_start_handles_a_region_cut_by_the_border() -> None:
    """Half the region lies outside the crop's image part: comparing only the inside still finds the move."""
    valid = np.ones((96, 96), np.float32)
    valid[:, :20] = 0.0  # left of column 20 is outside the image
    full_source = ellipse(96, 96, 24, 48, 18, 12)
    source = full_source & (valid > 0)
    target = ellipse(96, 96, 60, 48, 18, 12) & (valid > 0)
    starts = classical_starts(source.astype(np.float32), target.astype(np.float32), valid)
    assert starts and mask_iou(source, target, starts[0], valid) > 0.8


def test_a_region_cut_by_the_border_moves_in_one_piece(manipulator: Manipulator) -> None:
    image = painting(140, 200, seed=6)
    source = ellipse(140, 200, 5, 70, 30, 20)  # a third of it is outside the canvas
    target = np.roll(source, 40, axis=1)  # dragged right as it is: its cut edge comes along
    result = manipulator.edit(image, source, target)
    core = ellipse(140, 200, 45, 70, 20, 12) & target
    moved = np.roll(image, 40, axis=1)  # what a move by 40 pixels shows inside the new shape
    error = np.abs(result.image[core].astype(int) - moved[core].astype(int)).mean()
    assert error < 6


def test_a_region_dragged_partly_off_the_canvas_keeps_its_content(manipulator: Manipulator) -> None:
    """The region lies inside the canvas and is dragged so that half of it leaves: what is left of the
    new shape has no moments of the region's, yet the move is found (by the masks' overlap)."""
    image = painting(140, 220, seed=8)
    source = ellipse(140, 220, 140, 70, 36, 22) | ellipse(140, 220, 110, 50, 10, 16)
    target = np.zeros_like(source)
    target[:, :-150] = source[:, 150:]  # moved 150 px left: its left half is off the canvas
    result = manipulator.edit(image, source, target)
    core = target & (distance_outside(~target) > 3)
    moved = np.zeros_like(image)
    moved[:, :-150] = image[:, 150:]
    error = np.abs(result.image[core].astype(int) - moved[core].astype(int)).mean()
    assert error < 6


def test_exact_move_judge_tells_an_exact_move_on_the_full_resolution_masks() -> None:
    """A region with thin parts moved by 300 px: its one-affine motion is judged on the full-resolution
    masks (after ECC), where the move passes, from the exact shift or one a few pixels short; a new
    shape that also bulges is no move of the region, whatever the shift."""
    height, width = 600, 900
    source = ellipse(height, width, 200, 300, 120, 80)
    source[100:500, 195:203] = True  # a thin stroke through it
    target = np.zeros_like(source)
    target[:, 300:] = source[:, :-300]
    square = (0, 0, width)  # the alignment's square over the canvas (R = 32 here)
    crop = PolishCrop.of(source, target)
    judge = exact_move_judge(target, square, crop)

    def translation(pixels: float) -> torch.Tensor:
        motion = torch.zeros(1, 32, 32, 2)
        motion[..., 0] = -pixels / (width / 2.0)  # backward: the new shape reads the old place
        return motion

    assert judge(translation(300.0))
    assert judge(translation(296.0))  # within ECC's reach on the crop
    bulged = target | ellipse(height, width, 620, 300, 60, 60)
    assert not exact_move_judge(bulged, square, PolishCrop.of(source, bulged))(translation(300.0))


def test_overlap_translation_finds_a_move_off_the_crop() -> None:
    valid = np.ones((96, 96), np.float32)
    valid[:, :20] = 0.0
    source = ellipse(96, 96, 60, 48, 18, 12)
    target = ellipse(96, 96, 22, 40, 18, 12) & (valid > 0)
    translation = overlap_translation(source.astype(np.float32), target.astype(np.float32), valid)
    np.testing.assert_allclose(translation, [[1, 0, 38], [0, 1, 8]])
    assert overlap_translation(np.zeros((8, 8)), target[:8, :8]) is None


def test_two_parts_move_together(manipulator: Manipulator) -> None:
    image = painting(160, 220, seed=7)
    source = ellipse(160, 220, 60, 50, 14, 10) | ellipse(160, 220, 60, 110, 14, 10)
    target = np.roll(source, 50, axis=1)
    result = manipulator.edit(image, source, target)
    core = ellipse(160, 220, 110, 50, 9, 6) | ellipse(160, 220, 110, 110, 9, 6)
    error = np.abs(result.image[core].astype(int) - np.roll(image, 50, axis=1)[core].astype(int)).mean()
    assert error < 6


def test_a_pure_turn_is_carried_exactly(manipulator: Manipulator) -> None:
    """The region turned by 30 degrees about its centre: inside the new shape, the content is the
    old content turned, as a classical registration would give it."""
    image = painting(200, 200, seed=8)
    source = ellipse(200, 200, 100, 100, 50, 22, 0)
    target = ellipse(200, 200, 100, 100, 50, 22, 30)
    turns = [cv2.getRotationMatrix2D((100.0, 100.0), angle, 1.0) for angle in (30, -30)]
    turn = max(turns, key=lambda forward: (cv2.warpAffine(source.astype(np.uint8), forward, (200, 200)) > 0)[target].mean())
    truth = cv2.warpAffine(image, turn, (200, 200), flags=cv2.INTER_LINEAR)
    result = manipulator.edit(image, source, target)
    core = ellipse(200, 200, 100, 100, 42, 16, 30)
    error = np.abs(result.image[core].astype(int) - truth[core].astype(int)).mean()
    assert error < 8, error


def test_the_canvas_in_a_reduced_square_is_the_reduced_crop_of_a_full_canvas() -> None:
    from models.crops import canvas_in_working, crop_square, to_working

    for x0, y0, side, size in ((-5, -3, 20, 7), (10, 4, 12, 12), (30, 25, 9, 4), (-40, 2, 120, 64),
                               (35, -8, 16, 5), (-700, -300, 4500, 128)):
        full = to_working(crop_square(np.full((2160, 4096), 255, np.uint8), x0, y0, side, replicate=False), size)
        reduced = canvas_in_working((2160, 4096), x0, y0, side, size)
        assert reduced.shape == full.shape == (size, size, 1)
        np.testing.assert_allclose(reduced, full, atol=1.01 / 255)
        assert set(np.unique(reduced[(full == 0) | (full == 1)])) <= {0.0, 1.0}


@pytest.mark.parametrize("scale,turn", [(1.0, 0.0), (1.8, 25.0), (0.6, -40.0)])
def test_the_layer_window_holds_every_pixel_the_moved_matte_reaches(scale: float, turn: float) -> None:
    import torch

    from engine.compose import layer_window
    from engine.matte import rim_width, vacated_footprint
    from engine.render import render_cv2

    height, width = 300, 600
    rng = np.random.default_rng(5)
    image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    source = ellipse(height, width, 150, 90, 40, 28, 10)
    forward = cv2.getRotationMatrix2D((90, 150), turn, scale)
    forward[0, 2] += 380
    target = cv2.warpAffine(source.astype(np.uint8), forward, (width, height), flags=cv2.INTER_NEAREST) > 0
    backward = cv2.invertAffineTransform(forward)
    side, size = width, 32
    grid = (np.arange(size) + 0.5) * side / size - 0.5
    gx, gy = np.meshgrid(grid, grid)
    motion = np.stack([backward[0, 0] * gx + backward[0, 1] * gy + backward[0, 2] - gx,
                       backward[1, 0] * gx + backward[1, 1] * gy + backward[1, 2] - gy], -1).astype(np.float32)
    box = (0, 0, width, height)
    footprint = vacated_footprint(image, source, box, rim_width(source, image.shape))
    window = layer_window(motion, (0, 0, side), box, footprint.box, target)
    whole = render_cv2(image, source, motion, (0, 0, side), box, torch.device("cpu"), carry=footprint.over(box))
    ys, xs = np.nonzero((whole.carried > 1e-4) | target)
    assert window[0] <= xs.min() and xs.max() < window[2] and window[1] <= ys.min() and ys.max() < window[3]
    assert (window[2] - window[0]) * (window[3] - window[1]) < 0.6 * width * height  # the old place is left out
