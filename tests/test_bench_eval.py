"""Smoke tests of `simnet bench` (structure only, no timing assertions) and of the evaluation."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.cli import main
from engine.evaluation.baselines import cut_and_paste, moment_affine, register
from engine.evaluation.dataset import build_edits, list_paintings
from engine.evaluation.geometry import identity_map, warp_image
from engine.evaluation.metrics import PSNR_CAP, iou, psnr, ssim
from engine.evaluation.regions import find_regions


def test_bench_json_structure(capsys) -> None:
    assert main(["bench", "--sizes", "128,192x160", "--repeats", "2", "--warmup", "1", "--json", "--device", "cpu",
                 "--align-steps", "20"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results["machine"]["device"] == "cpu" and results["network"]["runs"] == 2
    assert [(row["width"], row["height"]) for row in results["sizes"]] == [(128, 128), (192, 160)]
    assert results["align_steps"] == 20
    for row in results["sizes"]:
        assert row["edit"]["median_s"] > 0 and row["small_edit"]["median_s"] > 0 and row["peak_process_mb"] > 0
    segmentation = results["segmentation"]
    assert segmentation["width"] == 2000 and segmentation["prepare_s"] > 0 and segmentation["click"]["runs"] == 2
    alignment = results["alignment"]  # counted inside the alignment stage only: hundreds of L-BFGS operators
    assert 100 < alignment["operators"] < 100_000 and alignment["kernel_launches"] == 0 and alignment["align_s"] > 0


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
    run = batch["batch_run"]
    assert run["edits"] == 6 and run["wall_s"] > 0 and run["per_edit_s"] == run["wall_s"] / 6
    export = figures["png_export_8k"]
    assert (export["width"], export["height"]) == (400, 260)
    assert export["painting"]["median_s"] > 0 and export["noisy"]["output_mb"] > 0
    scaling = figures["small_region"]
    assert scaling["canvas_8k"]["width"] == 400 and scaling["ratio_8k_to_1k"] > 0
    assert figures["peak_process_mb"] > 0
    assert "simnet edit on the sample (1024x640)" in captured.err and "PNG export 400x260" in captured.err


def test_bench_restyle_json_structure(capsys, monkeypatch) -> None:
    """`simnet bench --restyle` at a reduced size (the real one is 4096x2160): the whole `simnet restyle`
    process and the strength preview, each timed; the restyle's own command really ran."""
    from engine import bench_restyle

    monkeypatch.setattr(bench_restyle, "RESTYLE_SIZE", (320, 200))
    ran = []
    real_run = bench_restyle.subprocess.run

    def run(command, **kwargs):
        ran.append(command)
        return real_run(command, **kwargs)

    monkeypatch.setattr(bench_restyle.subprocess, "run", run)
    assert main(["bench", "--restyle", "--repeats", "2", "--warmup", "0", "--json"]) == 0
    captured = capsys.readouterr()
    row = json.loads(captured.out)["restyle"]
    assert (row["width"], row["height"]) == (320, 200) and 0.08 < row["region_fraction"] < 0.12
    assert row["whole_process"]["runs"] == 2 and row["whole_process"]["median_s"] > 0
    assert row["strength_preview"]["runs"] == 4 and row["strength_preview"]["median_s"] > 0
    assert len(ran) == 2 and ran[0][1:4] == ["-m", "engine.cli", "restyle"]
    assert "target <= 3 s" in captured.err and "target <= 0.3 s" in captured.err


def test_bench_restyle_at_the_sizes_asked(capsys) -> None:
    """`simnet bench --restyle --sizes ...` measures the restyle at those sizes (an 8K figure was measured by hand
    before); issue 21's 3 s target is named only at 4096x2160."""
    assert main(["bench", "--restyle", "--sizes", "320x200,256x160", "--repeats", "1", "--warmup", "0", "--json"]) == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)["restyle"]
    assert [(row["width"], row["height"]) for row in rows] == [(320, 200), (256, 160)]
    assert "simnet restyle 256x160" in captured.err and "target <= 3 s" not in captured.err


@pytest.mark.parametrize("sizes, message", [
    ("big", "'big' is not a size; use e.g. 512,1024,4096x2160"),
    ("512,0x0", "0x0 is smaller than 64x64"),  # it said "the source mask is empty: select a region first"
    ("100000x100000", "100000x100000 is over the limit of 120 megapixels"),  # it ran out of memory with a traceback
    ("512x", "'512x' is not a size"),  # it was taken for 512x512
])
def test_bench_rejects_bad_sizes(capsys, sizes: str, message: str) -> None:
    assert main(["bench", "--sizes", sizes]) == 2
    error = capsys.readouterr().err.strip()
    assert message in error and len(error.splitlines()) == 1


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
    noisy_outside = np.where(area[..., None], image, noisy)  # equal inside the area, noisy elsewhere
    assert psnr(noisy_outside, image, area) == PSNR_CAP
    outside_mse = ((noisy.astype(float) - image)[~area] ** 2).mean()
    assert psnr(noisy_outside, image, ~area) == pytest.approx(10 * np.log10(255**2 / outside_mse))
    assert psnr(noisy_outside, image) > psnr(noisy_outside, image, ~area)  # the exact area counts too
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
    truth[target] = warp_image(image, backward)[target]
    registered, warped = register(image, source, target)
    assert iou(warped, target) > 0.95
    assert psnr(registered[target], truth[target]) > 30


def _small_painting(artworks_dir: Path) -> Path:
    """The smallest held-out painting, to keep the tests quick."""
    return min(list_paintings(artworks_dir), key=lambda path: path.stat().st_size)


def test_evaluation_edits_are_deterministic(artworks_dir: Path) -> None:
    painting = [_small_painting(artworks_dir)]
    first = build_edits(artworks_dir, 1, seed=3, paintings=painting)
    second = build_edits(artworks_dir, 1, seed=3, paintings=painting)
    assert [e.group for e in first] == ["affine", "non-rigid", "moved layer", "growth"]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.truth, b.truth)
        np.testing.assert_array_equal(a.edit.target_mask, b.edit.target_mask)
    assert find_regions(first[0].image, 3) or find_regions(first[0].image, 3, border=True)


def test_eval_cli_end_to_end(artworks_dir: Path, tmp_path: Path, capsys) -> None:
    folder = tmp_path / "artworks"
    folder.mkdir()
    (folder / "painting.jpg").symlink_to(_small_painting(artworks_dir))
    code = main(["eval", "--artworks", str(folder), "--edits-per-kind", "1",
                 "--json", str(tmp_path / "eval.json"), "--figure", str(tmp_path / "fig.png"), "--device", "cpu"])
    assert code == 0
    out = capsys.readouterr().out
    for group in ("affine edits", "non-rigid edits", "moved layer edits", "growth edits", "SIM-Net", "register", "far PSNR"):
        assert group in out
    payload = json.loads((tmp_path / "eval.json").read_text())
    assert set(payload["summary"]["affine"]) == {"unchanged", "cut-and-paste", "register", "SIM-Net",
                                                 "SIM-Net, classical start only (no network)"}
    assert payload["counts"] == {"affine": 1, "non-rigid": 1, "moved layer": 1, "growth": 1, "all": 4}
    assert [edit["group"] for edit in payload["edits"]] == ["affine", "non-rigid", "moved layer", "growth"]
    assert set(payload["by_layout"]) == {"single"}
    assert set(payload["by_kind"]) == {"affine", "nonrigid", "layer", "stretch"}
    scores = [payload["per_edit"]["SIM-Net"][i]["psnr_shape"] for i in range(4)]
    assert payload["summary"]["all"]["SIM-Net"]["psnr_shape"] == pytest.approx(sum(scores) / 4)
    unchanged = payload["summary"]["all"]["unchanged"]
    assert unchanged["far_psnr"] == PSNR_CAP and unchanged["far_changed_worst"] == 0 and unchanged["ghost"] == 1
    assert (tmp_path / "fig.png").stat().st_size > 0


def test_eval_finds_the_tuning_photographs(bsds_dir: Path, tmp_path: Path) -> None:
    from engine.commands.eval import DEFAULT_BSDS_VAL, find_images
    from engine.errors import SimNetError

    assert find_images(None, DEFAULT_BSDS_VAL, "photographs").resolve() == (bsds_dir / "images" / "val").resolve()
    assert find_images(str(tmp_path), DEFAULT_BSDS_VAL, "photographs") == tmp_path
    with pytest.raises(SimNetError):
        find_images(str(tmp_path / "missing"), DEFAULT_BSDS_VAL, "photographs")
