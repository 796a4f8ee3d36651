"""``simnet eval-fill`` on a tiny made-up set: the report's structure, and a truth built apart from the fill."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io

from engine.cli import main
from engine.evaluation.fill_cases import build_cases, region_shapes
from engine.evaluation.fill_metrics import remnant_scores


def _paintings(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for index in range(2):
        rng = np.random.default_rng(index)
        noise = rng.random((150, 200, 3)).astype(np.float32)
        strokes = cv2.GaussianBlur(noise, (0, 0), sigmaX=5, sigmaY=1.5 + index)
        ys, xs = np.mgrid[0:150, 0:200]
        base = np.stack([np.sin(xs / (13.0 + 4 * index)), np.cos(ys / 19.0), np.sin((xs + ys) / 29.0)], axis=-1)
        image = np.clip((base * 0.25 + 0.5 + (strokes - 0.5) * 1.5) * 255, 0, 255).astype(np.uint8)
        path = folder / f"painting_{index}.png"
        cv2.imwrite(str(path), image)
        paths.append(path)
    return paths


def _bsds(folder: Path) -> Path:
    """A BSDS500-like folder whose training segmentations hold a few blob-shaped regions."""
    train = folder / "groundTruth" / "train"
    train.mkdir(parents=True)
    for index in range(3):
        labels = np.ones((120, 160), np.uint16)
        cv2.ellipse(labels, ((60 + 10 * index, 60), (50 + 8 * index, 36), 15 * index), 2, -1)
        cv2.circle(labels, (125, 30), 14, 3, -1)
        cell = np.empty((1, 1), dtype=object)
        cell[0, 0] = {"Segmentation": labels}
        scipy.io.savemat(str(train / f"{index}.mat"), {"groundTruth": cell})
    return folder


def test_segmentations_without_an_object_like_region_are_refused_by_their_folder(tmp_path: Path) -> None:
    train = tmp_path / "bsds" / "groundTruth" / "train"
    train.mkdir(parents=True)
    cell = np.empty((1, 1), dtype=object)
    cell[0, 0] = {"Segmentation": np.ones((120, 160), np.uint16)}  # one region: the whole photo
    scipy.io.savemat(str(train / "0.mat"), {"groundTruth": cell})
    with pytest.raises(FileNotFoundError, match="no usable region shapes in .*groundTruth/train"):
        region_shapes(tmp_path / "bsds", 0)


def test_the_truth_is_the_painting_itself_and_shares_no_code_with_the_fill(tmp_path: Path) -> None:
    paths = _paintings(tmp_path / "art")
    images = [(path.stem, cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)) for path in paths]
    cases = build_cases(images, region_shapes(_bsds(tmp_path / "bsds"), 0), 3, 0, outlined=True)
    assert len(cases) == 3
    for case, (_, host) in zip(cases, images + images):
        np.testing.assert_array_equal(case.underneath, host)
        # Where the object was and no longer is, the truth is the painting read from disk, bit for bit.
        assert case.vacated.sum() > 0.3 * case.source.sum()
        np.testing.assert_array_equal(case.truth[case.vacated], host[case.vacated])
        assert not np.array_equal(case.image[case.vacated], host[case.vacated])  # the input shows the object
        assert case.outline.any() and not (case.outline & case.source).any()
    # The case builder imports nothing of the product's editing code or models: of models/, only the BSDS500
    # reader it shares with training (which object-like regions a segmentation holds).
    probe = ("import sys, engine.evaluation.fill_cases; "
             "print(' '.join(sorted(m for m in sys.modules if m.startswith(('engine.fill', 'engine.compose', "
             "'engine.manipulator', 'models')))))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[1]).stdout.split()
    assert set(loaded) <= {"models", "models.training", "models.training.bsds"}


def test_a_dark_halo_carried_to_the_new_place_is_counted(tmp_path: Path) -> None:
    """``ground carried``: the truth scores 0; a 4-px dark ring carried around the object's new place, on light
    paint, scores about the ring's share of the measured ring (2-10 px out)."""
    paths = _paintings(tmp_path / "art")
    images = [(path.stem, np.full_like(cv2.imread(str(path)), 200)) for path in paths]  # light: all counted
    case = build_cases(images, region_shapes(_bsds(tmp_path / "bsds"), 0), 1, 0, outlined=True)[0]
    assert remnant_scores(case.truth, case, case.with_outline)["ground carried"] == 0.0
    beyond = cv2.distanceTransform((~case.covered_after).view(np.uint8), cv2.DIST_L2, 5)
    halo = case.truth.copy()
    halo[(beyond > 0) & (beyond <= 6) & ~case.vacated] = 30
    assert 0.35 < remnant_scores(halo, case, case.with_outline)["ground carried"] < 0.65


@pytest.mark.slow
def test_eval_fill_quick_run_reports_both_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _paintings(tmp_path / "art")
    report = tmp_path / "report.json"
    code = main(["eval-fill", "--artworks", str(tmp_path / "art"), "--bsds", str(_bsds(tmp_path / "bsds")),
                 "--quick", "--json", str(report)])
    assert code == 0
    payload = json.loads(report.read_text())
    assert payload["counts"] == {"exact masks": 2, "outlined, one click": 2}
    exact = payload["tables"]["exact masks"]
    assert set(exact) == {"ours", "Telea", "before (shift-map)"}
    for row in exact.values():
        assert set(row) == {"PSNR", "SSIM", "texture ratio", "seam ratio", "seconds"}
        assert 5.0 < row["PSNR"] < 99.0 and -1.0 <= row["SSIM"] <= 1.0 and row["seconds"] > 0
    # Telea's fill is a blur: it keeps far less texture than the patch fill (the column can tell them apart).
    assert exact["Telea"]["texture ratio"] < 0.8 * exact["ours"]["texture ratio"]
    outlined = payload["tables"]["outlined, one click"]["ours"]
    assert set(outlined) == {"outline left", "worst outline left", "outline carried", "ground carried", "click IoU",
                             "PSNR"}
    assert 0.0 <= outlined["outline left"] <= 1.0 and 0.0 <= outlined["click IoU"] <= 1.0
    # The reference row moves the object's own mask: its "click" is the object itself.
    reference = payload["tables"]["outlined, one click"]["ours, the object's own mask"]
    assert reference["click IoU"] == 1.0 and 0.0 <= reference["outline left"] <= 1.0
    assert len(payload["per_case"]["exact masks"]) == 2
    printed = capsys.readouterr().out
    assert "exact masks" in printed and "outlined, one click" in printed and "seam ratio" in printed


def test_eval_fill_refuses_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["eval-fill", "--artworks", str(tmp_path / "nowhere"), "--bsds", str(tmp_path)])
    assert code == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.slow
def test_eval_fill_outlined_only_scores_the_named_segmenter(tmp_path: Path) -> None:
    from engine.segmentation.checkpoint import default_segmenter_path

    _paintings(tmp_path / "art")
    report = tmp_path / "report.json"
    code = main(["eval-fill", "--artworks", str(tmp_path / "art"), "--bsds", str(_bsds(tmp_path / "bsds")),
                 "--quick", "--outlined-only", "--segmenter-checkpoint", str(default_segmenter_path()),
                 "--json", str(report), "--figure", str(tmp_path / "outlined.png")])
    assert code == 0
    payload = json.loads(report.read_text())
    assert payload["counts"] == {"outlined, one click": 2} and payload["cases"] == []
    assert set(payload["tables"]) == {"outlined, one click"}
    assert payload["segmenter_checkpoint"] == str(default_segmenter_path())
    # The figure: a header, then per object the click and its answer | ours | the own mask's edit | the truth.
    shown = cv2.imread(str(tmp_path / "outlined.png"))
    assert shown.shape == (28 + 2 * (240 + 6), 4 * (240 + 6), 3)
    first_column = shown[28:, :240]
    answer_drawn = (first_column[..., 1] > 200) & (first_column[..., 0] < 60) & (first_column[..., 2] < 60)
    assert answer_drawn.sum() > 50  # the answer's green outline


def test_eval_fill_refuses_a_damaged_segmenter_checkpoint_before_any_edit(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _paintings(tmp_path / "art")
    damaged = tmp_path / "segmenter.pt"
    damaged.write_bytes(b"not a checkpoint")
    report = tmp_path / "report.json"
    code = main(["eval-fill", "--artworks", str(tmp_path / "art"), "--bsds", str(_bsds(tmp_path / "bsds")),
                 "--quick", "--segmenter-checkpoint", str(damaged), "--json", str(report)])
    assert code == 2 and not report.exists()
    error = capsys.readouterr().err.strip()
    assert "segmenter checkpoint" in error and "\n" not in error
    assert main(["eval-fill", "--artworks", str(tmp_path / "art"), "--bsds", str(tmp_path / "bsds"),
                 "--outlined-only", "--no-outlined"]) == 2
    # A figure of table 2 without table 2, or in a format that cannot be written, is refused before any edit.
    assert main(["eval-fill", "--artworks", str(tmp_path / "art"), "--bsds", str(tmp_path / "bsds"),
                 "--no-outlined", "--figure", str(tmp_path / "figure.png")]) == 2
    assert main(["eval-fill", "--artworks", str(tmp_path / "art"), "--bsds", str(tmp_path / "bsds"), "--quick",
                 "--figure", str(tmp_path / "figure.gif"), "--json", str(report)]) == 2
    assert not report.exists() and not (tmp_path / "figure.gif").exists()
    assert "figure.gif" in capsys.readouterr().err
