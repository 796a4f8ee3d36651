"""``simnet bench --restyle``: issue 21's two speed targets, measured as the user meets them.

(a) ``simnet restyle`` run as a process of its own on a 4096x2160 painting (the shipped sample resized) with a
region of about 10 % of it and an exemplar region of about 10 % of the same file: the whole path, the
interpreter's start, reading, the restyle and the atomic write included (target: at most 3 s on 2 CPU cores);
(b) the editor's preview after a strength change on that restyle, prepared once (``Restyled.box_at_strength``,
what the slider redraws; target: at most 0.3 s). Wall-clock medians; the files live in a temporary folder.
"""
from __future__ import annotations

import itertools
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from engine.bench_common import ellipse, measure
from engine.bench_end_to_end import REGION_FRACTION, painting
from engine.imageio import save_image, save_mask
from engine.restyle import prepare_restyle

RESTYLE_SIZE = (4096, 2160)
#: The strengths the slider is moved to, in turn (each preview differs from the one before).
STRENGTHS = (0.8, 0.5, 0.3, 0.9)


def restyle_masks(width: int, height: int, fraction: float = REGION_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """The region (an ellipse of about ``fraction`` of the canvas, left of centre) and the exemplar region
    (the same ellipse, lower right)."""
    radius_x = 0.2 * width
    radius_y = fraction * width * height / (np.pi * radius_x)
    region = ellipse(width, height, 0.3 * width, 0.33 * height, radius_x, radius_y)
    exemplar_region = ellipse(width, height, 0.72 * width, 0.68 * height, radius_x, radius_y)
    return region, exemplar_region


def run_restyle_bench(repeats: int, warmup: int, report: Callable[[str], None] = lambda line: None,
                      size: tuple[int, int] | None = None) -> dict[str, object]:
    """Both figures (the module's docstring) at ``size`` (width, height; default RESTYLE_SIZE), reported line by line."""
    width, height = RESTYLE_SIZE if size is None else size
    pixels = painting(width, height)
    region, exemplar_region = restyle_masks(width, height)
    cpu = torch.device("cpu")
    with tempfile.TemporaryDirectory(prefix="simnet-bench-restyle-") as temporary:
        folder = Path(temporary)
        art, region_path, exemplar_path, output = (folder / name for name in
                                                   ("art.png", "region.png", "exemplar.png", "restyled.png"))
        save_image(art, pixels)
        save_mask(region_path, region)
        save_mask(exemplar_path, exemplar_region)
        command = [sys.executable, "-m", "engine.cli", "restyle", str(art), "--region", str(region_path),
                   "--exemplar", str(art), "--exemplar-region", str(exemplar_path), "-o", str(output)]

        def whole_path() -> None:
            subprocess.run(command, check=True, capture_output=True)

        whole = measure(whole_path, cpu, repeats, warmup)
    target = " (target <= 3 s)" if (width, height) == RESTYLE_SIZE else ""  # issue 21's target is at 4096x2160
    report(f"simnet restyle {width}x{height}, region {region.mean():.0%}, exemplar region {exemplar_region.mean():.0%} "
           f"of the same file, whole process: {whole.median:.2f} s{target}")
    restyled = prepare_restyle(pixels, region, pixels, exemplar_region)
    strengths = itertools.cycle(STRENGTHS)
    preview = measure(lambda: restyled.box_at_strength(next(strengths)), cpu, max(repeats, len(STRENGTHS)), warmup)
    report(f"editor preview after a strength change (the restyle's box, {restyled.box[2] - restyled.box[0]}x"
           f"{restyled.box[3] - restyled.box[1]} px): {preview.median:.3f} s (target <= 0.3 s)")
    return {"width": width, "height": height, "region_fraction": float(region.mean()),
            "whole_process": whole.as_dict(), "strength_preview": preview.as_dict()}
