"""``simnet restyle`` runs without torch: the backbone's blocks in NumPy (models/restyle/lite0.py)
give the torch network's features, the restyle is the same with either, and neither the command
nor a restyle-only batch imports torch."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine import restyle as restyle_module
from engine.imageio import save_image, save_mask
from models.perceptual import EfficientNetLite0Features, efficientnet_weights_path
from models.restyle.features import RESTYLE_BLOCKS
from models.restyle.lite0 import fold_batch_norms

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples" / "starry_night.jpg"


def _sample(width: int, height: int) -> np.ndarray:
    rgb = cv2.cvtColor(cv2.imread(str(SAMPLE)), cv2.COLOR_BGR2RGB)
    return cv2.resize(rgb, (width, height), interpolation=cv2.INTER_AREA)


class TorchRestyleBackbone:
    """The torch network the NumPy one replaces, with the same interface: (H, W, 3) -> (H/4, W/4, 64)."""

    def __init__(self) -> None:
        self.network = EfficientNetLite0Features(feature_blocks=RESTYLE_BLOCKS)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            quarter, eighth = self.network(torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None])
            eighth = F.interpolate(eighth, size=quarter.shape[-2:], mode="bilinear", align_corners=False)
            return torch.cat([quarter, eighth], dim=1)[0].permute(1, 2, 0).numpy()


@pytest.mark.parametrize("height, width", [(256, 200), (64, 96), (37, 53)])
def test_numpy_backbone_gives_the_torch_features(height: int, width: int) -> None:
    rgb = _sample(width, height).astype(np.float32) / 255
    ours = restyle_module.restyle_backbone()(rgb)
    theirs = TorchRestyleBackbone()(rgb)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    assert np.abs(ours - theirs).max() <= 1e-5 * np.abs(theirs).max() + 1e-4


def test_shipped_weights_are_the_package_weights_folded() -> None:
    state = torch.load(efficientnet_weights_path(), map_location="cpu", weights_only=True)
    state = {name: value.double().numpy() for name, value in state.items() if value.is_floating_point()}
    expected = fold_batch_norms(state, max(RESTYLE_BLOCKS) + 1)
    with np.load(ROOT / "resources" / restyle_module.BACKBONE_WEIGHTS) as shipped:
        assert sorted(shipped.files) == sorted(expected)
        for name, value in expected.items():
            np.testing.assert_allclose(shipped[name], value, rtol=1e-6, atol=1e-7)


def test_the_restyle_is_the_same_with_the_torch_features(monkeypatch) -> None:
    image, exemplar = _sample(240, 180), _sample(240, 180)[::-1, ::-1].copy()
    region = np.zeros((180, 240), np.uint8)
    cv2.ellipse(region, (110, 90), (80, 50), 0, 0, 360, 1, -1)
    exemplar_region = np.zeros((180, 240), bool)
    exemplar_region[20:160, 30:220] = True
    ours = restyle_module.restyle(image, region.astype(bool), exemplar, exemplar_region)
    monkeypatch.setattr(restyle_module, "restyle_backbone", TorchRestyleBackbone)
    theirs = restyle_module.restyle(image, region.astype(bool), exemplar, exemplar_region)
    difference = np.abs(ours.astype(int) - theirs)
    assert (difference > 2).mean() < 0.01 and difference.mean() < 0.1


def test_simnet_restyle_and_a_restyle_only_batch_import_no_torch(tmp_path: Path) -> None:
    image = _sample(160, 120)
    region, exemplar_region = np.zeros((120, 160), bool), np.zeros((120, 160), bool)
    region[20:70, 20:90] = True
    exemplar_region[60:110, 80:150] = True
    save_image(tmp_path / "art.png", image)
    save_mask(tmp_path / "region.png", region)
    save_mask(tmp_path / "exemplar_region.png", exemplar_region)
    (tmp_path / "batch.jsonl").write_text(json.dumps(
        {"op": "restyle", "image": "art.png", "region": "region.png", "exemplar": "art.png",
         "exemplar_region": "exemplar_region.png", "output": "batch.png"}))
    restyle = ["restyle", str(tmp_path / "art.png"), "--region", str(tmp_path / "region.png"), "--exemplar",
               str(tmp_path / "art.png"), "--exemplar-region", str(tmp_path / "exemplar_region.png"),
               "-o", str(tmp_path / "out.png")]
    for argv in (restyle, ["batch", str(tmp_path / "batch.jsonl")]):
        script = ("import sys; from engine.cli import main; status = main(sys.argv[1:]); "
                  "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(status)")
        process = subprocess.run([sys.executable, "-c", script, *argv], cwd=ROOT, capture_output=True, text=True,
                                 timeout=120)
        assert process.returncode == 0, process.stderr
    assert (tmp_path / "out.png").exists() and (tmp_path / "batch.png").exists()


def test_damaged_or_wrong_backbone_weights_give_one_clear_error(tmp_path) -> None:
    from engine.errors import CheckpointError
    from engine.restyle import load_backbone

    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not an archive")
    with pytest.raises(CheckpointError, match="garbage.npz are damaged: not a NumPy .npz archive"):
        load_backbone(garbage, "garbage.npz")
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, stem=np.zeros((3, 3)))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_backbone(wrong, "wrong.npz")
    with pytest.raises(CheckpointError):
        load_backbone(tmp_path / "missing.npz", "missing.npz")
