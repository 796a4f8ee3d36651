"""SIM-Net's Table 1 and 2 columns for reshape edits (engine/evaluation/paper_tables.py)."""
from __future__ import annotations

import numpy as np

from engine.evaluation.metrics import PSNR_CAP
from engine.evaluation.metrics import PAPER_METRICS
from engine.evaluation.paper_tables import paper_markdown, paper_scores
from engine.evaluation.runner import run_methods, summarise, unchanged
from test_evaluation_metrics import EDIT


def test_the_truth_scores_perfectly_and_damage_is_seen_where_it_is() -> None:
    perfect = paper_scores(EDIT, EDIT.truth)
    assert perfect["style_roi"] == 0.0 and perfect["perceptual_outside"] == 0.0
    assert perfect["ssim_outside"] == 1.0 and perfect["psnr_outside"] == PSNR_CAP
    assert perfect["colour_roi"] > 0.999 and perfect["texture_roi"] > 0.999
    outside = ~(EDIT.edit.source_mask | EDIT.edit.target_mask)
    damaged = EDIT.truth.copy()
    damaged[outside] = 255 - damaged[outside]  # only outside: the ROI scores stay perfect
    hurt = paper_scores(EDIT, damaged)
    assert hurt["ssim_outside"] < 0.5 and hurt["psnr_outside"] < 20 and hurt["perceptual_outside"] > 0.05
    assert hurt["colour_roi"] > 0.999
    greyed = EDIT.truth.copy()
    greyed[EDIT.edit.target_mask] = 128  # the ROI loses its texture and colours
    flat = paper_scores(EDIT, greyed)
    assert flat["colour_roi"] < 0.5 and flat["psnr_outside"] == PSNR_CAP
    assert flat["perceptual_outside"] < 0.5 * hurt["perceptual_outside"]  # only features near the ROI see it
    # Damage outside reaches the ROI's features only through their receptive fields at its edge.
    assert flat["style_roi"] > 3 * hurt["style_roi"] > 0


def test_run_methods_reports_the_paper_columns_with_cost() -> None:
    scores = run_methods([EDIT], {"unchanged": unchanged})
    summary = summarise(scores.per_edit["unchanged"])
    assert all(key in summary for key in PAPER_METRICS)
    assert summary["seconds"] >= 0 and summary["peak_mb"] >= 0
    table = paper_markdown({"unchanged": summary}, 1)
    assert "| unchanged |" in table and "style loss (ROI)" in table
    plain = summarise(run_methods([EDIT], {"unchanged": unchanged}, paper=False).per_edit["unchanged"])
    assert "style_roi" not in plain and np.isfinite(plain["far_psnr"])
