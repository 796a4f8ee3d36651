"""Bilinear against bicubic reading of a rotated and scaled picture, scored against a truth made apart from both.

Each BSDS500 val photo is reduced to half its size; the half-size photo is rotated (5-40 degrees) and scaled
(0.8-1.5x) with each interpolation, and compared with the full-size photo warped the same way (Lanczos) and
reduced (area), inside the picture's middle half: PSNR, and the mean |Laplacian| as a share of the truth's
(how much fine detail is kept). With ``--paintings``, also how far bicubic lies from a synthetic edit's truth
made by a bilinear warp (a rotation of 17 degrees and 1.1x, the middle half). The figures in
engine/render.py's RESAMPLING and in the README come from

    python tools/resampling_check.py ../shared/data/bsds500/images/val --count 40 --paintings ../shared/data/artworks
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

METHODS = (("bilinear", cv2.INTER_LINEAR), ("bicubic", cv2.INTER_CUBIC), ("lanczos", cv2.INTER_LANCZOS4))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="BSDS500 val photographs")
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--paintings", default=None, help="a folder of paintings for the bilinear-truth check")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    scores: dict[str, list[float]] = {name: [] for name, _ in METHODS}
    detail: dict[str, list[float]] = {name: [] for name, _ in METHODS}
    for path in sorted(Path(args.folder).glob("*.jpg"))[:args.count]:
        full = cv2.imread(str(path)).astype(np.float32)
        height, width = (full.shape[0] // 2) * 2, (full.shape[1] // 2) * 2
        full = full[:height, :width]
        half = cv2.resize(full, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        h, w = half.shape[:2]
        centre = (w / 2 + rng.uniform(-5, 5), h / 2 + rng.uniform(-5, 5))
        affine = cv2.getRotationMatrix2D(centre, rng.uniform(5, 40), rng.uniform(0.8, 1.5))
        at_full = affine.copy()  # the same motion in the full-size photo's pixels (pixel centres at + 0.5)
        at_full[:, 2] = 2 * affine[:, 2] + 0.5 - 0.5 * (affine[:, 0] + affine[:, 1])
        truth = cv2.resize(cv2.warpAffine(full, at_full, (width, height), flags=cv2.INTER_LANCZOS4), (w, h),
                           interpolation=cv2.INTER_AREA)
        middle = (slice(h // 4, 3 * h // 4), slice(w // 4, 3 * w // 4))
        truth_detail = np.abs(cv2.Laplacian(cv2.cvtColor(truth, cv2.COLOR_BGR2GRAY), cv2.CV_32F)[middle]).mean()
        for name, flag in METHODS:
            out = cv2.warpAffine(half, affine, (w, h), flags=flag)
            scores[name].append(10 * np.log10(255.0**2 / float(((out - truth)[middle] ** 2).mean())))
            kept = np.abs(cv2.Laplacian(cv2.cvtColor(out, cv2.COLOR_BGR2GRAY), cv2.CV_32F)[middle]).mean()
            detail[name].append(kept / truth_detail)
    for name, _ in METHODS:
        print(f"{name:9s} PSNR {np.mean(scores[name]):.2f} dB   fine detail {np.mean(detail[name]):.3f} of the truth's")
    for path in sorted(Path(args.paintings).glob("*.jpg")) if args.paintings else []:
        painting = cv2.imread(str(path)).astype(np.float32)
        h, w = painting.shape[:2]
        affine = cv2.getRotationMatrix2D((w / 2, h / 2), 17, 1.1)
        affine[:, 2] += (3.3, -2.6)
        bilinear = cv2.warpAffine(painting, affine, (w, h), flags=cv2.INTER_LINEAR)
        bicubic = cv2.warpAffine(painting, affine, (w, h), flags=cv2.INTER_CUBIC)
        middle = (slice(h // 4, 3 * h // 4), slice(w // 4, 3 * w // 4))
        error = float(((bicubic - bilinear)[middle] ** 2).mean())
        print(f"{path.name}: bicubic against a bilinear-warped truth {10 * np.log10(255.0**2 / error):.1f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
