"""Smoke tests of `simnet bench` (structure only, no timing assertions) and of the evaluation."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.evaluation.baselines import cut_and_paste, moment_affine, register, true_affine_reference
from engine.evaluation.dataset import build_edits, list_paintings
from engine.evaluation.metrics import PSNR_CAP, iou, psnr, ssim
from engine.evaluation.regions import find_regions
from models.deformation import identity_map, warp_with_map


def test_bench_json_structure(capsys) -> None:
    assert main(["bench", "--sizes", "128,192x160", "--repeats", "2", "--warmup", "1", "--json", "--device", "cpu"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["machine"]["device"] == "cpu" and results["network"]["runs"] == 2
    assert [(row["width"], row["height"]) for row in results["sizes"]] == [(128, 128), (192, 160)]
    for row in results["sizes"]:
        assert row["edit"]["median_s"] > 0 and row["small_edit"]["median_s"] > 0 and row["peak_process_mb"] > 0
    segmentation = results["segmentation"]
    assert segmentation["width"] == 2000 and segmentation["prepare_s"] > 0 and segmentation["click"]["runs"] == 2


def test_bench_end_to_end_json_structure(capsys, monkeypatch) -> None:
    """Files in, files out, at reduced sizes (the real ones are 4096x2160 and 7680x4320)."""
    from engine import bench_end_to_end

    monkeypatch.setattr(bench_end_to_end, "BATCH_SIZE", (320, 200))
    monkeypatch.setattr(bench_end_to_end, "EXPORT_SIZE", (400, 260))
    assert main(["bench", "--sizes", "", "--repeats", "2", "--warmup", "1", "--json", "--device", "cpu",
                 "--end-to-end"]) == 0
    captured = capsys.readouterr()
    results = json.loads(captured.out)
    assert results["sizes"] == [] and results["model_load_s"] > 0
    figures = results["end_to_end"]
    batch, sample = figures["batch_4k"], figures["sample_edit"]
    assert (batch["width"], batch["height"]) == (320, 200) and 0.08 < batch["region_fraction"] < 0.12
    assert (sample["width"], sample["height"]) == (1024, 640)
    for row in (batch, sample):
        assert row["per_edit"]["runs"] == 2 and row["per_edit"]["median_s"] > 0 and row["first_run_s"] > 0
        assert set(row["stages"]) == {"read", "prepare", "network", "align", "render", "write"}
        assert all(stage["median_s"] > 0 for stage in row["stages"].values())
        stage_sum = sum(stage["median_s"] for stage in row["stages"].values())
        assert stage_sum <= row["per_edit"]["median_s"] * 1.5 and row["output_mb"] > 0
    export = figures["png_export_8k"]
    assert (export["width"], export["height"]) == (400, 260)
    assert export["painting"]["median_s"] > 0 and export["noisy"]["output_mb"] > 0
    scaling = figures["small_region"]
    assert scaling["canvas_8k"]["width"] == 400 and scaling["ratio_8k_to_1k"] > 0
    assert figures["peak_process_mb"] > 0
    assert "simnet edit on the sample (1024x640)" in captured.err and "PNG export 400x260" in captured.err


def test_bench_rejects_bad_sizes(capsys) -> None:
    assert main(["bench", "--sizes", "big"]) == 2
    assert "cannot read --sizes" in capsys.readouterr().err


def test_metrics_on_known_cases() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (40, 50, 3)).astype(np.uint8)
    assert psnr(image, image) == PSNR_CAP and ssim(image, image) == pytest.approx(1.0)
    noisy = np.clip(image.astype(int) + rng.choice([-5, 5], image.shape), 0, 255).astype(np.uint8)
    mse = ((noisy.astype(float) - image) ** 2).mean()
    assert psnr(noisy, image) == pytest.approx(10 * np.log10(255**2 / mse))
    assert ssim(noisy, image) < 1.0
    area = np.zeros((40, 50), bool)
    area[:10] = True
    assert psnr(noisy * 0 + image, image, area) == PSNR_CAP
    assert iou(area, area) == 1.0 and iou(area, ~area) == 0.0


def test_baselines_recover_a_pure_translation() -> None:
    rng = np.random.default_rng(1)
    image = (rng.random((120, 160, 3)) * 255).astype(np.uint8)
    ys, xs = np.mgrid[0:120, 0:160]
    source = ((xs - 60) / 20.0) ** 2 + ((ys - 60) / 14.0) ** 2 <= 1
    target = ((xs - 75) / 20.0) ** 2 + ((ys - 55) / 14.0) ** 2 <= 1
    forward = moment_affine(source, target)
    np.testing.assert_allclose(forward[:, :2], np.eye(2), atol=0.03)
    np.testing.assert_allclose(forward[:, 2], [15, -5], atol=0.6)
    pasted, moved = cut_and_paste(image, source, target)
    assert iou(moved, target) > 0.95
    backward = identity_map(120, 160) + np.array([-15.0, 5.0], np.float32)
    truth = image.copy()
    truth[target] = warp_with_map(image, backward)[target]
    registered, warped = register(image, source, target)
    assert iou(warped, target) > 0.95
    assert psnr(registered[target], truth[target]) > 30


def test_true_affine_reference_is_the_truth_for_affine_edits_only(artworks_dir: Path) -> None:
    """The reference rebuilds an affine edit exactly; a non-rigid edit's surroundings it cannot."""
    edits = build_edits(artworks_dir, 2, seed=5, paintings=list_paintings(artworks_dir)[:2])
    for edit in edits:
        result, _ = true_affine_reference(edit.image, edit.edit, edit.truth)
        np.testing.assert_array_equal(result[edit.edit.target_mask], edit.truth[edit.edit.target_mask])
        outside = ~edit.edited_area  # moved by under 0.01 px: at most a rounding step
        assert np.abs(result[outside].astype(int) - edit.image[outside].astype(int)).max() <= 1
        error = psnr(result, edit.truth, edit.edited_area)
        if edit.edit.kind == "affine":
            assert error > 45
        elif edit.edit.kind == "nonrigid":
            assert error < 35


def test_evaluation_edits_are_deterministic(artworks_dir: Path) -> None:
    painting = list_paintings(artworks_dir)[:1]
    first = build_edits(artworks_dir, 2, seed=3, paintings=painting)
    second = build_edits(artworks_dir, 2, seed=3, paintings=painting)
    assert [e.group for e in first] == ["affine", "affine", "non-rigid", "non-rigid"]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.truth, b.truth)
        np.testing.assert_array_equal(a.edit.target_mask, b.edit.target_mask)
    assert find_regions(first[0].image, 3)


def test_eval_cli_end_to_end(artworks_dir: Path, tmp_path: Path, capsys) -> None:
    code = main(["eval", "--artworks", str(artworks_dir), "--paintings", "1", "--edits-per-kind", "1",
                 "--json", str(tmp_path / "eval.json"), "--figure", str(tmp_path / "fig.png"), "--device", "cpu"])
    assert code == 0
    out = capsys.readouterr().out
    assert "affine edits" in out and "non-rigid edits" in out and "SIM-Net" in out and "register" in out
    payload = json.loads((tmp_path / "eval.json").read_text())
    assert set(payload["summary"]["affine"]) == {"unchanged", "cut-and-paste", "register", "SIM-Net",
                                                 "reference: true region, true affine around"}
    assert payload["counts"] == {"affine": 1, "non-rigid": 1, "all": 2}
    both = [payload["per_edit"]["SIM-Net"][i]["psnr_edited"] for i in range(2)]
    assert payload["summary"]["all"]["SIM-Net"]["psnr_edited"] == pytest.approx(sum(both) / 2)
    assert (tmp_path / "fig.png").stat().st_size > 0
