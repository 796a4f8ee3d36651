"""The evaluation's true results: fold-free, local, honest about the vacated area, independent of the product."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.ndimage

from engine.evaluation.dataset import build_edits, far_mask
from engine.evaluation.geometry import (diagonal, distance_to, jacobian_determinant, touches_border, warp_image,
                                        warp_mask)
from engine.evaluation.truth import FAR_FRACTION, WARP_KINDS, layer_edit, stretch_edit, warp_edit
from engine.imageio import save_image

REPO_ROOT = Path(__file__).resolve().parents[1]


def _texture(height: int, width: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (height // 8 + 2, width // 8 + 2, 3)).astype(np.uint8)
    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(smooth.astype(int) + rng.integers(-20, 21, smooth.shape), 0, 255).astype(np.uint8)


def _ellipse(shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float]) -> np.ndarray:
    ys, xs = np.mgrid[0:shape[0], 0:shape[1]]
    return ((xs - centre[0]) / axes[0]) ** 2 + ((ys - centre[1]) / axes[1]) ** 2 <= 1


REGIONS = {
    "single": _ellipse((240, 320), (150, 120), (40, 28)),
    "border": _ellipse((240, 320), (10, 130), (45, 35)),
    "multi": _ellipse((240, 320), (110, 90), (26, 20)) | _ellipse((240, 320), (210, 150), (22, 30)),
}


def _warp_edits():
    image = _texture(240, 320, 0)
    made = []
    for layout, region in REGIONS.items():
        for kind in WARP_KINDS:
            for seed in range(4):
                edit = warp_edit(image, region, np.random.default_rng(seed), kind, layout)
                if edit is not None:
                    made.append(edit)
    return made


WARP_EDITS = _warp_edits()


def test_warp_edits_of_every_kind_and_layout_are_made() -> None:
    assert {(edit.kind, edit.layout) for edit in WARP_EDITS} == {(k, l) for k in WARP_KINDS for l in REGIONS}


@pytest.mark.parametrize("index", range(len(WARP_EDITS)))
def test_warp_truth_is_fold_free_local_and_the_image_carried_by_its_map(index: int) -> None:
    edit = WARP_EDITS[index]
    assert jacobian_determinant(edit.backward_map).min() > 0
    far = far_mask(edit)
    assert far.any()
    np.testing.assert_array_equal(edit.truth[far], edit.image[far])
    np.testing.assert_array_equal(edit.truth[~edit.changed], edit.image[~edit.changed])
    assert not (edit.changed & far).any()
    np.testing.assert_array_equal(edit.truth[edit.changed], warp_image(edit.image, edit.backward_map)[edit.changed])
    np.testing.assert_array_equal(edit.target_mask, warp_mask(edit.source_mask, edit.backward_map))
    inside = (edit.backward_map >= -0.5) & (edit.backward_map <= np.array([319.5, 239.5]))
    assert inside.all()  # the truth never invents pixels from beyond the image


def test_affine_truth_moves_the_region_by_its_recorded_affine() -> None:
    edit = next(e for e in WARP_EDITS if e.kind == "affine" and e.layout == "single")
    ys, xs = np.nonzero(edit.target_mask)
    expected = np.stack([xs, ys], axis=1) @ edit.affine_backward[:, :2].T + edit.affine_backward[:, 2]
    np.testing.assert_allclose(edit.backward_map[ys, xs], expected, atol=1e-3)


def test_border_and_multi_part_layouts_are_what_they_say() -> None:
    for edit in WARP_EDITS:
        parts = scipy.ndimage.label(edit.source_mask)[1]
        assert touches_border(edit.source_mask) == (edit.layout == "border")
        assert parts == (2 if edit.layout == "multi" else 1)


def test_transition_reaches_the_identity_inside_the_far_limit() -> None:
    for edit in WARP_EDITS:
        distance = distance_to(edit.source_mask | edit.target_mask)
        assert distance[edit.changed].max() < FAR_FRACTION * diagonal(edit.changed.shape)


def _layer_edits():
    host, donor = _texture(240, 320, 1), _texture(200, 200, 2)
    one = _ellipse((200, 200), (100, 100), (50, 35))
    two = _ellipse((200, 200), (60, 60), (30, 22)) | _ellipse((200, 200), (140, 140), (30, 25))
    made = []
    for layout in ("single", "border", "multi"):
        region = two if layout == "multi" else one
        for seed in range(12):
            edit = layer_edit(host, donor, region, np.random.default_rng(seed), layout)
            if edit is not None:
                made.append((host, edit))
    return made


LAYER_EDITS = _layer_edits()


def test_moved_layer_truth_shows_the_painting_underneath_where_the_layer_left() -> None:
    assert {edit.layout for _, edit in LAYER_EDITS} == {"single", "border", "multi"}
    for host, edit in LAYER_EDITS:
        vacated = edit.vacated_mask
        assert vacated.any()
        # Beyond the moved layer's soft edge, the vacated area of the truth is the host's own bits.
        clear = vacated & (distance_to(edit.target_mask) > 6)
        assert clear.any()
        np.testing.assert_array_equal(edit.truth[clear], host[clear])
        far = far_mask(edit)
        np.testing.assert_array_equal(edit.truth[far], edit.image[far])
        np.testing.assert_array_equal(edit.image[~edit.changed], host[~edit.changed])
        assert touches_border(edit.source_mask) == (edit.layout == "border")


def test_evaluation_code_imports_nothing_of_the_product_motion() -> None:
    code = ("import sys; import engine.evaluation.truth, engine.evaluation.dataset, engine.evaluation.runner, "
            "engine.evaluation.report; print(sorted(m for m in sys.modules if m.startswith(('models', 'torch', "
            "'engine.render', 'engine.manipulator'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT,
                         env={"PYTHONPATH": str(REPO_ROOT), "PATH": ""}, check=True).stdout
    assert out.strip() == "[]"


def test_build_edits_makes_every_group_and_layout(tmp_path: Path) -> None:
    for index in range(2):
        painting = _texture(240, 320, 10 + index)
        palette = [(230, 40, 40), (40, 200, 60), (30, 60, 220), (240, 220, 30)]
        for colour, (centre, axes) in zip(palette, [((90, 80), (40, 30)), ((230, 150), (35, 40)),
                                                      ((8, 200), (40, 30)), ((260, 60), (30, 25))]):
            painting[_ellipse((240, 320), centre, axes)] = colour
        save_image(tmp_path / f"painting{index}.png", painting)
    edits = build_edits(tmp_path, 3, seed=1)
    assert [(e.group, e.edit.layout) for e in edits] == [
        (group, layout) for group in ("affine", "non-rigid", "moved layer", "growth") for layout in ("single", "border", "multi")]
    again = build_edits(tmp_path, 3, seed=1)
    for first, second in zip(edits, again):
        np.testing.assert_array_equal(first.truth, second.truth)
    for edit in edits:
        np.testing.assert_array_equal(edit.truth[edit.far], edit.image[edit.far])


def test_stretch_pins_one_end_of_the_region_and_paints_the_rest_stretched_over_the_painting() -> None:
    image = _texture(240, 320, 3)
    made = 0
    for layout, region in REGIONS.items():
        for seed in range(4):
            edit = stretch_edit(image, region, np.random.default_rng(seed), layout)
            if edit is None:
                continue
            made += 1
            height, width = region.shape
            ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
            still = np.hypot(edit.backward_map[..., 0] - xs, edit.backward_map[..., 1] - ys) < 1e-4
            pinned = region & still
            assert pinned.sum() >= 0.25 * region.sum()  # one end stays exactly where it was...
            assert (edit.target_mask >= region).all()  # ...a brush only adds...
            assert edit.target_mask.sum() >= 1.15 * region.sum()  # ...and the region grows a lot
            # Outside the new shape nothing changes; inside, the truth is the painting read through the map.
            np.testing.assert_array_equal(edit.truth[~edit.target_mask], image[~edit.target_mask])
            assert not (edit.changed & ~edit.target_mask).any()
            np.testing.assert_array_equal(edit.truth[edit.changed], warp_image(image, edit.backward_map)[edit.changed])
            np.testing.assert_array_equal(edit.truth[pinned], image[pinned])
            # Beyond the pinned end the region is stretched: the map moves what it reads there.
            assert (edit.changed & ~still).any()
    assert made >= 6
