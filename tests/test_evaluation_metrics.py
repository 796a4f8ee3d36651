"""The evaluation's scores: collateral, vacated area and ghost behave on cases with a known answer."""
from __future__ import annotations

import math

import numpy as np
import pytest

from engine.evaluation.metrics import PSNR_CAP, changed_fraction, ghost_fraction
from engine.evaluation.runner import score, summarise, unchanged
from engine.evaluation.truth import layer_edit
from engine.evaluation.dataset import EvalEdit, far_mask


def _edit() -> EvalEdit:
    rng = np.random.default_rng(0)
    host = rng.integers(0, 256, (200, 260, 3)).astype(np.uint8)
    donor = np.full((120, 120, 3), 250, np.uint8)
    ys, xs = np.mgrid[0:120, 0:120]
    region = (xs - 60) ** 2 + (ys - 60) ** 2 <= 35**2
    for seed in range(20):
        edit = layer_edit(host, donor, region, np.random.default_rng(seed), "single")
        if edit is not None and edit.vacated_mask.sum() > 200:
            return EvalEdit("noise", "moved layer", edit, far_mask(edit))
    raise AssertionError("no usable layer edit drawn")


EDIT = _edit()


def test_the_truth_scores_perfectly_and_unchanged_has_no_collateral() -> None:
    perfect = score(EDIT, EDIT.truth, EDIT.edit.target_mask)
    assert perfect["psnr_shape"] == PSNR_CAP and perfect["vacated_psnr"] == PSNR_CAP
    assert perfect["far_psnr"] == PSNR_CAP and perfect["far_changed"] == 0 and perfect["ghost"] == 0
    assert perfect["iou"] == 1.0 and perfect["ssim_shape"] == pytest.approx(1.0)
    still = score(EDIT, *unchanged(EDIT.image, EDIT.edit.source_mask, EDIT.edit.target_mask))
    assert still["far_psnr"] == PSNR_CAP and still["far_changed"] == 0
    assert still["ghost"] == 1.0 and still["vacated_psnr"] < 20 and still["psnr_shape"] < 20


def test_collateral_detects_a_change_far_from_the_masks() -> None:
    result = EDIT.truth.copy()
    ys, xs = np.nonzero(EDIT.far)
    result[ys[:50], xs[:50]] ^= 1
    damaged = score(EDIT, result, EDIT.edit.target_mask)
    assert damaged["far_changed"] == pytest.approx(50 / EDIT.far.sum())
    assert 40 < damaged["far_psnr"] < PSNR_CAP
    assert damaged["psnr_shape"] == PSNR_CAP  # the new shape is untouched


def test_ghost_counts_the_old_region_left_in_the_vacated_area() -> None:
    vacated = EDIT.edit.vacated_mask
    half = vacated & (np.cumsum(vacated.ravel()).reshape(vacated.shape) <= vacated.sum() // 2)
    result = EDIT.truth.copy()
    result[half] = EDIT.image[half]
    ghost = ghost_fraction(result, EDIT.image, EDIT.truth, vacated)
    assert 0.35 < ghost < 0.65
    assert math.isnan(ghost_fraction(EDIT.image, EDIT.image, EDIT.image, vacated))  # nothing tells them apart


def test_summary_reports_the_worst_edit_and_skips_undefined_scores() -> None:
    rows = [{"psnr_shape": 30.0, "ssim_shape": 0.9, "far_psnr": PSNR_CAP, "far_changed": 0.0,
             "vacated_psnr": float("nan"), "ghost": float("nan"), "iou": 0.9},
            {"psnr_shape": 20.0, "ssim_shape": 0.7, "far_psnr": 35.0, "far_changed": 0.25,
             "vacated_psnr": 18.0, "ghost": 0.5, "iou": 0.8}]
    summary = summarise(rows)
    assert summary["psnr_shape"] == 25.0 and summary["vacated_psnr"] == 18.0 and summary["ghost"] == 0.5
    assert summary["far_psnr_worst"] == 35.0 and summary["far_changed_worst"] == 0.25
    assert summary["far_changed_edits"] == 1


def test_changed_fraction_counts_pixels_not_channels() -> None:
    image = np.zeros((4, 5, 3), np.uint8)
    other = image.copy()
    other[0, 0, 2] = 9
    assert changed_fraction(other, image, np.ones((4, 5), bool)) == pytest.approx(1 / 20)
