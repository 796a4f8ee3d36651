"""`simnet train`: a few real steps on BSDS500 pairs, checkpoints, and resuming (CPU)."""
from __future__ import annotations

from pathlib import Path

import torch

from engine.checkpoint import load_model
from engine.cli import main


def train(bsds: Path, out: Path, steps: int) -> int:
    return main(["train", "--data", str(bsds), "--out", str(out), "--steps", str(steps), "--batch-size", "2",
                 "--train-pairs", "6", "--val-pairs", "3", "--save-every", "1", "--device", "cpu",
                 "--workers", "1", "--threads", "1"])


def test_train_saves_checkpoints_and_resumes(bsds_dir: Path, tmp_path: Path, capsys) -> None:
    assert train(bsds_dir, tmp_path, 2) == 0
    first = capsys.readouterr()
    log = first.out + first.err
    assert "6 training pairs, 3 validation pairs" in log
    assert "validation at step 2" in log
    assert (tmp_path / "last.pt").is_file() and (tmp_path / "best.pt").is_file()
    model = load_model(tmp_path / "last.pt", device="cpu")
    assert all(torch.isfinite(parameter).all() for parameter in model.parameters())

    assert train(bsds_dir, tmp_path, 3) == 0
    second = capsys.readouterr()
    log = second.out + second.err
    assert f"resumed from {tmp_path / 'last.pt'} at step 2" in log
    assert "validation at step 3" in log and "validation at step 1" not in log

    whole = (tmp_path / "last.pt").read_bytes()  # a run folder whose last.pt was cut short (a copy, a full disk)
    (tmp_path / "last.pt").write_bytes(whole[:3000])
    for command in ("train", "segment-train"):
        assert main([command, "--data", str(bsds_dir), "--out", str(tmp_path), "--steps", "4"]) == 2
        error = capsys.readouterr().err.strip()
        assert "the run's checkpoint" in error and "is truncated or not a PyTorch file" in error, error
        assert len(error.splitlines()) == 1 and "Traceback" not in error
        assert ("--no-resume" in error) == (command == "train")
    assert (tmp_path / "last.pt").read_bytes() == whole[:3000]  # left as it was, for the user to decide


def test_train_can_fine_tune_the_shipped_model(bsds_dir: Path, tmp_path: Path, capsys) -> None:
    shipped = load_model(None, device="cpu")
    code = main(["train", "--data", str(bsds_dir), "--out", str(tmp_path), "--steps", "1", "--batch-size", "2",
                 "--train-pairs", "4", "--val-pairs", "2", "--save-every", "1", "--device", "cpu", "--workers", "1",
                 "--threads", "1", "--lr", "1e-6", "--init", str(Path(__file__).parents[1] / "resources" / "simnet.pt")])
    assert code == 0
    assert "starting from the given model's weights" in capsys.readouterr().out
    tuned = load_model(tmp_path / "last.pt", device="cpu")
    assert tuned.config == shipped.config
    for (name, before), after in zip(shipped.state_dict().items(), tuned.state_dict().values()):
        torch.testing.assert_close(after.float(), before.float(), atol=1e-3, rtol=0, msg=name)
