"""Checkpoints: round trip, the shipped default, and every way a file can be wrong."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.checkpoint import default_checkpoint_path, export_checkpoint, load_model, save_checkpoint
from engine.errors import CheckpointError
from models.serialization import FORMAT_VERSION, to_payload
from models.simnet import SimNet, SimNetConfig

TINY = SimNetConfig(working_size=32, num_keypoints=3, keypoint_width=8, keypoint_depth=2, transport_width=8, transport_depth=2)


def test_round_trip_keeps_config_and_weights(tmp_path: Path) -> None:
    model = SimNet(TINY)
    save_checkpoint(tmp_path / "m.pt", model, {"step": 3})
    loaded = load_model(tmp_path / "m.pt")
    assert loaded.config == TINY
    for name, tensor in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[name], tensor)


def test_half_precision_export_is_loaded_back_as_float(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "full.pt", SimNet(TINY), {"optimizer": {"big": 1}, "step": 9})
    export_checkpoint(tmp_path / "full.pt", tmp_path / "small.pt", {"note": "test"})
    payload = torch.load(tmp_path / "small.pt", weights_only=True)
    assert "optimizer" not in payload["metadata"] and payload["metadata"]["step"] == 9
    assert load_model(tmp_path / "small.pt").keypoint_detector.heatmap_head.weight.dtype == torch.float32


def test_the_shipped_checkpoint_loads_by_default() -> None:
    assert default_checkpoint_path().is_file()
    model = load_model()
    assert isinstance(model, SimNet) and not model.training


@pytest.mark.parametrize("content,message", [
    (None, "does not exist"),
    (b"", "truncated or not a PyTorch file"),
    (b"hello\n", "truncated or not a PyTorch file"),
    ("truncated", "truncated or not a PyTorch file"),
    ("state_dict", "not a SIM-Net Studio checkpoint"),
    ("newer", "newer than this program"),
    ("mismatch", "does not match the SIM-Net model"),
])
def test_bad_checkpoints_are_explained(tmp_path: Path, content, message: str) -> None:
    path = tmp_path / "bad.pt"
    if content == "truncated":
        save_checkpoint(path, SimNet(TINY))
        path.write_bytes(path.read_bytes()[:2000])
    elif content == "state_dict":
        torch.save(SimNet(TINY).state_dict(), path)
    elif content == "newer":
        payload = to_payload(SimNet(TINY))
        payload["format_version"] = FORMAT_VERSION + 1
        torch.save(payload, path)
    elif content == "mismatch":
        payload = to_payload(SimNet(TINY))
        payload["config"]["num_keypoints"] = 5
        torch.save(payload, path)
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message):
        load_model(path)
