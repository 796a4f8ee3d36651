"""Tune the patch fill on BSDS500 validation photographs (never on paintings).

Builds ``simnet eval-fill``'s cases on the BSDS500 val photos (optionally enlarged by ``--scale``),
runs the SIM-Net edit of each case once and caches what its composition was called with, so a fill
setting is scored by composing again with the fill alone (no network, no alignment). PatchMatch's
scores are cached with the cases. Settings are module constants, changed with ``--set``:

    python tools/tune_fill.py ../shared/data/bsds500/images/val --cases 30 --scale 1.5 \\
        --set engine.fill_surface.MEMBRANE_CLIP=0.2 --set engine.fill.WORK_SIDE=256
"""
from __future__ import annotations

import argparse
import ast
import importlib
import pickle
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.commands.eval_fill import load_images  # noqa: E402
from engine.compose import compose  # noqa: E402
from engine.evaluation.fill_cases import build_cases, region_shapes  # noqa: E402
from engine.evaluation.fill_methods import ours, patchmatch, patchmatch_available  # noqa: E402
from engine.evaluation.fill_metrics import seam_ratio, texture_ratio  # noqa: E402
from engine.evaluation.fill_runner import RecordingManipulator  # noqa: E402
from engine.evaluation.metrics import psnr, ssim  # noqa: E402

COLUMNS = ("PSNR", "SSIM", "texture ratio", "seam ratio", "seconds")


def prepared_cases(folder: Path, bsds: Path, count: int, scale: float, seed: int, cache: Path) -> list[dict]:
    """Each case with its composition's arguments and PatchMatch's scores (read from ``cache`` when there)."""
    if cache.exists():
        return pickle.loads(cache.read_bytes())
    images = load_images(folder, 0)
    if scale != 1.0:
        images = [(name, cv2.resize(pixels, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC))
                  for name, pixels in images]
    cases = build_cases(images, region_shapes(bsds, seed), count, seed, outlined=False)
    manipulator = RecordingManipulator(device="cpu")
    prepared = []
    for number, case in enumerate(cases):
        manipulator.edit(case.image, case.source, case.target)
        item = {"case": case, "arguments": manipulator.last_compose}
        if patchmatch_available():
            item["PatchMatch"] = score(item, patchmatch)
        prepared.append(item)
        print(f"prepared {number + 1}/{len(cases)} {case.name}", file=sys.stderr, flush=True)
    cache.write_bytes(pickle.dumps(prepared))
    return prepared


def score(item: dict, fill) -> dict[str, float]:
    """The case composed again with ``fill``; its scores on the vacated area."""
    case = item["case"]
    image, source, target, motion, square, reach, box = item["arguments"]
    spent = [0.0]

    def timed(*args, **kwargs):
        started = time.perf_counter()
        out = fill(*args, **kwargs)
        spent[0] += time.perf_counter() - started
        return out

    import torch

    composition = compose(image, source, target, motion, square, reach, torch.device("cpu"), box, fill=timed)
    bx0, by0, bx1, by1 = composition.box
    result = image.copy()
    np.copyto(result[by0:by1, bx0:bx1], composition.patch, where=composition.changed[..., None])
    item["last"] = result
    return {"PSNR": psnr(result, case.underneath, case.vacated), "SSIM": ssim(result, case.underneath, case.vacated),
            "texture ratio": texture_ratio(result, case), "seam ratio": seam_ratio(result, case),
            "seconds": spent[0]}


def apply_settings(settings: list[str]) -> None:
    for setting in settings:
        name, value = setting.split("=", 1)
        module_name, attribute = name.rsplit(".", 1)
        module = importlib.import_module(module_name)
        if not hasattr(module, attribute):
            raise SystemExit(f"{module_name} has no {attribute}")
        setattr(module, attribute, ast.literal_eval(value))


def mean_row(rows: list[dict[str, float]]) -> str:
    return "  ".join(f"{column} {np.nanmean([row[column] for row in rows]):.3f}" for column in COLUMNS)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="BSDS500 val photographs")
    parser.add_argument("--bsds", default="/work/shared/data/bsds500")
    parser.add_argument("--cases", type=int, default=30)
    parser.add_argument("--scale", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache", default=None, help="pickle of the prepared cases (default /tmp/tune_fill_*.pkl)")
    parser.add_argument("--set", action="append", default=[], metavar="MODULE.NAME=VALUE")
    parser.add_argument("--per-case", action="store_true")
    args = parser.parse_args()
    cache = Path(args.cache or f"/tmp/tune_fill_{args.cases}_{args.scale}_{args.seed}.pkl")
    prepared = prepared_cases(Path(args.folder), Path(args.bsds), args.cases, args.scale, args.seed, cache)
    apply_settings(args.set)
    rows = []
    for item in prepared:
        rows.append(score(item, ours))
        if args.per_case:
            anchor = item.get("PatchMatch", {}).get("PSNR", float("nan"))
            print(f"{item['case'].name:>20}: ours {rows[-1]['PSNR']:.2f} dB (PatchMatch {anchor:.2f})")
    print(f"settings {' '.join(args.set) or '(shipped)'}")
    print(f"  ours        {mean_row(rows)}")
    if "PatchMatch" in prepared[0]:
        print(f"  PatchMatch  {mean_row([item['PatchMatch'] for item in prepared])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
