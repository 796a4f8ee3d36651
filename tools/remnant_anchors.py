"""The remnant probe's measures for PatchMatch and Telea filling the same holes as our edit.

Run the probe first (it writes case0..case2 with input, region and result), then this on its folder:

    python ../shared/probe/remnant.py SIMNET_BIN /tmp/remnant
    python tools/remnant_anchors.py /tmp/remnant

The hole given to the anchors is what our edit changed around the object's old place (away from its new
one). Prints, per painting and fill: the share of the outline's band left dark and the vacated PSNR, as
the probe defines them (docs/fill-notes.md, *The outlined objects*). Needs ``pip install pypatchmatch``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT.parent / "shared" / "probe"))

import remnant  # noqa: E402  (the probe's cases and blob)

from engine.evaluation.fill_methods import patchmatch  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="the remnant probe's output folder")
    args = parser.parse_args()
    for number, (host_name, _donor, size) in enumerate(remnant.CASES):
        host = cv2.imread(str(remnant.ART / host_name))
        height, width = host.shape[:2]
        side = int(size * min(height, width))
        x0, y0 = int(0.15 * width), (height - side) // 2
        obj = np.zeros((height, width), bool)
        obj[y0:y0 + side, x0:x0 + side] = remnant.blob(side, side, number)
        ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
        ring = (cv2.dilate(obj.astype(np.uint8), ellipse) > 0) & ~obj
        case = Path(args.folder) / f"case{number}"
        result, painted = cv2.imread(str(case / "result.png")), cv2.imread(str(case / "input.png"))
        shift = np.float32([[1, 0, int(1.3 * side)], [0, 1, 0]])
        moved = cv2.warpAffine((obj | ring).astype(np.uint8), shift, (width, height), flags=cv2.INTER_NEAREST) > 0
        away = ~(cv2.dilate(moved.astype(np.uint8), np.ones((7, 7))) > 0)
        changed = np.abs(result.astype(int) - painted).max(axis=2) > 0
        near_old = cv2.dilate((obj | ring).astype(np.uint8), np.ones((41, 41))) > 0
        hole = changed & near_old & away
        band = ring & away & (cv2.cvtColor(host, cv2.COLOR_BGR2GRAY) > 70)
        vacated = (obj | ring) & away
        rgb = cv2.cvtColor(painted, cv2.COLOR_BGR2RGB)
        fills = {"ours (simnet edit)": result,
                 "PatchMatch, same hole": cv2.cvtColor(patchmatch(rgb, hole, (0, 0, width, height)), cv2.COLOR_RGB2BGR),
                 "Telea, same hole": cv2.inpaint(painted, hole.astype(np.uint8), 5, cv2.INPAINT_TELEA)}
        for name, filled in fills.items():
            left = float((cv2.cvtColor(filled, cv2.COLOR_BGR2GRAY)[band] < 55).mean())
            error = (filled.astype(np.float64) - host)[vacated]
            psnr = 10 * np.log10(255.0**2 / max(1e-9, float((error**2).mean())))
            print(f"{host_name:18s} {name:24s} left {100 * left:3.0f} %   vacated PSNR {psnr:.1f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
