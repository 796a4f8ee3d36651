"""engine.mask_tools and engine.candidates without Qt: exact radii, holes, invert, mask files, and
the candidates of a click."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.ndimage

from engine.candidates import CandidateSet
from engine.errors import MaskError, SimNetError
from engine.imageio import save_image, save_mask
from engine.mask_tools import (fill_holes, grow, invert, read_mask_file, shrink, smooth, without_specks,
                               write_mask_file)
from engine.segmentation.base import MaskPrediction


def disc_element(radius: int) -> np.ndarray:
    ys, xs = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return xs**2 + ys**2 <= radius**2


def blobs(seed: int, shape=(90, 120)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return scipy.ndimage.gaussian_filter(rng.random(shape), 3) > 0.52


@pytest.mark.parametrize("radius", [1, 2, 3, 5, 8, 13])
def test_grow_is_a_dilation_by_the_exact_disc(radius: int) -> None:
    mask = blobs(radius)
    expected = scipy.ndimage.binary_dilation(mask, disc_element(radius))
    np.testing.assert_array_equal(grow(mask, radius), expected)


def test_a_grown_pixel_is_the_disc_of_that_radius() -> None:
    mask = np.zeros((41, 41), bool)
    mask[20, 20] = True
    assert grow(mask, 5).sum() == 81  # lattice points with x² + y² ≤ 25
    assert grow(mask, 12).sum() == disc_element(12).sum()


@pytest.mark.parametrize("radius", [1, 2, 4, 7, 11])
def test_shrink_is_an_erosion_by_the_exact_disc_without_eating_from_the_border(radius: int) -> None:
    mask = blobs(10 + radius)
    # Outside the image counts as inside the region (it goes on beyond the painting).
    expected = scipy.ndimage.binary_erosion(mask, disc_element(radius), border_value=1)
    np.testing.assert_array_equal(shrink(mask, radius), expected)


def test_grow_and_shrink_leave_zero_radius_and_empty_masks_alone() -> None:
    mask = blobs(3)
    np.testing.assert_array_equal(grow(mask, 0), mask)
    np.testing.assert_array_equal(shrink(mask, 0), mask)
    empty = np.zeros((30, 40), bool)
    assert not grow(empty, 5).any() and not shrink(empty, 5).any()
    with pytest.raises(MaskError):
        grow(mask, -2)
    with pytest.raises(MaskError):
        shrink(mask, 2.5)


def test_fill_holes_fills_enclosed_background_only() -> None:
    mask = np.zeros((60, 80), bool)
    mask[10:40, 10:50] = True
    mask[20:25, 20:30] = False  # a hole
    mask[10:20, 45:50] = False  # a notch open to the outside
    filled = fill_holes(mask)
    assert filled[20:25, 20:30].all()
    assert not filled[10:20, 45:50].any()
    assert (filled & ~mask).sum() == 50


def test_invert() -> None:
    mask = blobs(4)
    inverted = invert(mask)
    assert not (inverted & mask).any() and (inverted | mask).all()


def test_a_wide_smooth_blurs_a_reduced_mask_and_agrees_with_the_full_blur(monkeypatch) -> None:
    """Smooth by a wide radius blurs the mask reduced (its time does not grow with the radius: by 1000 px on an
    8K painting it took minutes on the editor's GUI thread) and gives what the full-size blur gives, its outline
    within a pixel."""
    import cv2

    from engine import mask_tools

    rng = np.random.default_rng(0)
    shape = np.zeros((900, 1300), np.uint8)
    cv2.ellipse(shape, (650, 450), (330, 190), 20, 0, 360, 1, -1)
    for _ in range(40):
        cv2.circle(shape, (int(rng.integers(300, 1000)), int(rng.integers(250, 650))), int(rng.integers(4, 40)),
                   int(rng.integers(0, 2)), -1)
    mask = shape > 0
    sigmas: list[float] = []
    real_blur = cv2.GaussianBlur
    monkeypatch.setattr(mask_tools.cv2, "GaussianBlur",
                        lambda field, size, sigma, **options: sigmas.append(sigma) or real_blur(field, size, sigma,
                                                                                                 **options))
    for radius in (20, 60, 150):
        sigmas.clear()
        smoothed = smooth(mask, radius)
        assert max(sigmas) <= mask_tools.FULL_SIGMA
        full = real_blur(mask.astype(np.float32), (0, 0), radius, borderType=cv2.BORDER_REFLECT_101) >= 0.5
        outline = full & ~(cv2.erode(full.view(np.uint8), np.ones((3, 3), np.uint8)) > 0)
        assert (smoothed != full).sum() <= outline.sum(), radius  # the outline within a pixel of the full blur's
    assert smooth(np.zeros((40, 50), bool), 900).shape == (40, 50)


def test_smooth_removes_spikes_and_keeps_a_large_shape() -> None:
    ys, xs = np.mgrid[0:100, 0:100]
    square = (abs(xs - 50) <= 25) & (abs(ys - 50) <= 25)
    spiky = square.copy()
    spiky[48:51, 75:90] = True  # a thin spike
    smoothed = smooth(spiky, 3)
    assert not smoothed[49, 82:90].any()
    assert abs(int(smoothed.sum()) - int(square.sum())) < 0.05 * square.sum()
    np.testing.assert_array_equal(smooth(spiky, 0), spiky)


def test_mask_files_round_trip(tmp_path: Path) -> None:
    mask = blobs(5)
    written = write_mask_file(tmp_path / "region", mask)
    assert written.suffix == ".png" and written.exists()
    np.testing.assert_array_equal(read_mask_file(written, mask.shape), mask)


def test_a_mask_with_the_same_aspect_ratio_is_scaled(tmp_path: Path) -> None:
    mask = np.zeros((60, 80), bool)
    mask[15:45, 20:60] = True
    save_mask(tmp_path / "half.png", mask[::2, ::2])
    loaded = read_mask_file(tmp_path / "half.png", (60, 80))
    assert loaded.shape == (60, 80)
    assert (loaded ^ mask).sum() <= 2 * (30 + 40)  # at most the outline differs


@pytest.mark.parametrize("content", ["other size", "empty file", "corrupt", "black", "missing"])
def test_bad_mask_files_give_one_line_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "mask.png"
    if content == "other size":
        save_mask(path, np.ones((50, 50), bool))
    elif content == "empty file":
        path.write_bytes(b"")
    elif content == "corrupt":
        path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 20)
    elif content == "black":
        save_image(path, np.zeros((60, 80, 3), np.uint8))
    with pytest.raises(SimNetError) as caught:
        read_mask_file(path, (60, 80))
    message = str(caught.value)
    assert message and "\n" not in message
    if content == "other size":
        assert "50x50" in message and "80x60" in message


def prediction(fractions_masks: list[np.ndarray], scores: list[float], chosen: int | None = None) -> MaskPrediction:
    return MaskPrediction(np.stack(fractions_masks), np.array(scores), chosen)


def nested(shape=(40, 50)) -> list[np.ndarray]:
    """A part (1 %), an object (24 %) and most of the image (80 %), given largest first."""
    masks = [np.zeros(shape, bool) for _ in range(3)]
    masks[0][:32, :] = True
    masks[1][10:22, 10:50] = True
    masks[2][15:19, 15:20] = True
    return masks


def test_candidates_are_ordered_smallest_first_and_never_flood_at_first() -> None:
    candidates = CandidateSet.from_prediction(prediction(nested(), [0.95, 0.80, 0.60]))
    assert candidates.fractions == tuple(sorted(candidates.fractions))
    assert candidates.scores == (0.60, 0.80, 0.95)
    # The best-scored candidate covers 80 %: the first shown is the best among those under half.
    assert candidates.default == 1
    assert "candidate 2/3 · 24.0 % of the painting · score 0.80" == candidates.describe(1)
    # The segmenter's choice is kept (re-indexed), unless it floods.
    assert CandidateSet.from_prediction(prediction(nested(), [0.95, 0.80, 0.60], chosen=2)).default == 0
    assert CandidateSet.from_prediction(prediction(nested(), [0.95, 0.80, 0.60], chosen=0)).default == 1


def test_when_every_candidate_floods_none_is_shown_until_stepped_up() -> None:
    huge = nested()[0]
    candidates = CandidateSet.from_prediction(prediction([huge], [0.99]))
    assert candidates.default is None
    base = np.zeros_like(huge)
    base[0, 0] = True
    candidates = candidates.on(base)
    np.testing.assert_array_equal(candidates.selection(None), base)
    assert candidates.stepped(None, 1) == 0 and candidates.stepped(None, -1) is None
    np.testing.assert_array_equal(candidates.selection(0), base | huge)


def test_a_box_is_taken_as_drawn_even_when_it_covers_most_of_the_painting() -> None:
    huge = nested()[0]
    assert CandidateSet.from_prediction(prediction([huge], [0.99]), box=True).default == 0
    # Several answers to a box: the segmenter's best, not the smallest.
    assert CandidateSet.from_prediction(prediction(nested(), [0.95, 0.80, 0.60]), box=True).default == 2


def test_a_removing_click_takes_its_candidate_out_of_the_base() -> None:
    masks = nested()
    candidates = CandidateSet.from_prediction(prediction(masks, [0.9, 0.8, 0.7]), adds=False).on(masks[0])
    np.testing.assert_array_equal(candidates.selection(0), masks[0] & ~masks[2])
    assert candidates.stepped(0, 5) == 2 and candidates.stepped(2, -7) == 0


def test_without_specks_drops_small_parts_fills_pinholes_and_keeps_clicked_and_large_ones() -> None:
    mask = np.zeros((100, 100), bool)
    mask[20:80, 20:80] = True  # the object: 3600 px
    mask[5, 5] = mask[90:92, 90:92] = True  # specks far from it
    mask[10:13, 90:93] = True  # a small part that was clicked
    big_part = np.zeros_like(mask)
    big_part[85:95, 5:35] = True  # 300 px: a part in its own right (over 0.5 % of the largest)
    mask |= big_part
    mask[30:32, 30:32] = False  # a pinhole in the object: filled
    mask[2:5, 40:43] = True
    mask[3, 41] = False  # a ring-shaped speck: dropped, its hole with it
    mask[50:70, 50:70] = False  # a hole of 400 px: kept
    kept = without_specks(mask, 0.005, [(91.0, 11.0)])
    expected = mask.copy()
    expected[5, 5] = expected[90:92, 90:92] = False
    expected[2:5, 40:43] = False
    expected[30:32, 30:32] = True
    np.testing.assert_array_equal(kept, expected)
    assert not without_specks(mask, 0.005)[11, 91]  # not clicked: a speck too
    np.testing.assert_array_equal(without_specks(np.zeros((4, 4), bool), 0.005), np.zeros((4, 4), bool))


@pytest.mark.parametrize("seed", range(40))
def test_without_specks_agrees_with_a_pixel_labelling(seed: int) -> None:
    """The contour-traced sizes against exact labels (scipy): every part and hole is decided as by its pixel count,
    except those within 8 % over the limit (the largest part's size is read from its outline, a few percent over)."""
    rng = np.random.default_rng(seed)
    mask = scipy.ndimage.gaussian_filter(rng.random((120, 160)), rng.uniform(1, 4)) > rng.uniform(0.5, 0.56)
    mask = (mask | (rng.random(mask.shape) < 0.01)) & ~(rng.random(mask.shape) < 0.01)
    share = float(rng.choice([0.005, 0.02, 0.1]))
    cleaned = without_specks(mask, share)
    parts, count = scipy.ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = np.bincount(parts.ravel())
    limit = share * sizes[1:].max()
    for label in range(1, count + 1):
        part = parts == label
        if not 1.0 <= sizes[label] / limit < 1.08:
            assert cleaned[part].all() == (sizes[label] >= limit)
    holes, count = scipy.ndimage.label(~mask)  # 4-connected, as the holes of 8-connected parts
    border = set(np.unique(np.concatenate([holes[0], holes[-1], holes[:, 0], holes[:, -1]])))
    for label in range(1, count + 1):
        hole = holes == label
        size = int(hole.sum())
        rows, cols = np.nonzero(hole)
        around = parts[rows[0] - 1, cols[0]] if rows[0] > 0 else 0  # the part above its first pixel encloses it
        if label in border or (around and sizes[around] < limit and not 1.0 <= sizes[around] / limit < 1.08):
            assert not cleaned[hole].any()  # the ground, or a hole of a dropped speck
        elif not 1.0 <= size / limit < 1.08 and not (around and 1.0 <= sizes[around] / limit < 1.08):
            assert cleaned[hole].all() == (size < limit)
