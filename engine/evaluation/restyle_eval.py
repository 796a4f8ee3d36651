"""``simnet eval-restyle``: restyles of held-out paintings' regions from other paintings' regions,
scored against classical anchors measured in the same run.

Pairs: each painting's largest regions (colour clusters found without any model,
:mod:`engine.evaluation.regions`) are restyled from the largest region of another painting.
Every method gets the same pairs; seconds are wall time of the method alone and peak memory is
the rise of the process's resident high-water mark while it runs (:mod:`engine.evaluation.cost`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from engine.evaluation.cost import measure_cost
from engine.evaluation.dataset import list_paintings
from engine.evaluation.regions import find_regions
from engine.evaluation.restyle_anchors import adain_features, histogram_matching, reinhard
from engine.evaluation.restyle_metrics import restyle_scores
from engine.imageio import load_image
from engine.restyle import prepare_restyle

Method = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, int | None]]
SCORES = ("content", "structure", "style", "colour", "texture", "seconds", "peak_mb", "attention_mb")


@dataclass
class RestylePair:
    name: str
    image: np.ndarray
    region: np.ndarray
    exemplar: np.ndarray
    exemplar_region: np.ndarray


def _rgb(pixels: np.ndarray) -> np.ndarray:
    pixels = pixels[..., :3] if pixels.shape[2] >= 3 else np.repeat(pixels, 3, axis=2)
    return (pixels // 257).astype(np.uint8) if pixels.dtype == np.uint16 else pixels


def build_pairs(folder: str | Path, regions_per_image: int = 2, seed: int = 0, limit: int = 0) -> list[RestylePair]:
    """Each image's ``regions_per_image`` largest regions, each restyled from the largest region
    of the next image but ``k`` (k = 1, 2, ...) in the sorted list: never the same image."""
    paths = list_paintings(folder)
    if limit:
        paths = paths[:limit]
    images = [_rgb(load_image(path).pixels) for path in paths]
    regions = [find_regions(image, seed) for image in images]
    pairs = []
    for index, path in enumerate(paths):
        for k, region in enumerate(regions[index][:regions_per_image]):
            for step in range(1, len(paths)):
                other = (index + k + step) % len(paths)
                if other != index and regions[other]:
                    pairs.append(RestylePair(f"{path.stem}#{k} <- {paths[other].stem}", images[index], region,
                                             images[other], regions[other][0]))
                    break
    return pairs


def _ours(correspondence: str, strength: float) -> Method:
    def run(image, region, exemplar, exemplar_region):
        restyled = prepare_restyle(image, region, exemplar, exemplar_region, correspondence=correspondence)
        return restyled.at_strength(strength), restyled.peak_bytes
    return run


def _anchor(function: Callable) -> Method:
    return lambda image, region, exemplar, exemplar_region: (function(image, region, exemplar, exemplar_region), None)


def restyle_methods() -> dict[str, Method]:
    """The rows of the table, in order."""
    return {
        "input unchanged": lambda image, *_: (image.copy(), None),
        "Reinhard colour transfer": _anchor(reinhard),
        "histogram matching": _anchor(histogram_matching),
        "AdaIN on backbone features (pixel-optimised)": _anchor(adain_features),
        "ours, full attention": _ours("full", 1.0),
        "ours, masked attention": _ours("masked", 1.0),
        "ours, bi-level attention (default), strength 1": _ours("bilevel", 1.0),
        "ours, bi-level attention (default), strength 0.5": _ours("bilevel", 0.5),
    }


def measure(method: Method, pair: RestylePair) -> tuple[np.ndarray, dict[str, float]]:
    """Run one method on one pair: its output, seconds, peak memory rise (MB) and attention bytes."""
    (output, attention), seconds, peak = measure_cost(
        lambda: method(pair.image, pair.region, pair.exemplar, pair.exemplar_region))
    return output, {"seconds": seconds, "peak_mb": peak,
                    "attention_mb": float("nan") if attention is None else attention / 2**20}


def run_restyle_eval(pairs: list[RestylePair], methods: dict[str, Method],
                     keep: set[int] | None = None, progress: Callable[[str], None] | None = None,
                     ) -> tuple[dict[str, dict[str, float]], dict[str, list[dict[str, float]]], dict]:
    """Means per method, the per-pair rows, and the outputs of the pairs in ``keep`` (for figures)."""
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in methods}
    outputs: dict = {}
    for method in methods.values():  # warm-up: networks loaded and kernels chosen before timing
        method(pairs[0].image, pairs[0].region, pairs[0].exemplar, pairs[0].exemplar_region)
    for index, pair in enumerate(pairs):
        for name, method in methods.items():
            output, cost = measure(method, pair)
            scores = restyle_scores(pair.image, output, pair.region, pair.exemplar, pair.exemplar_region)
            rows[name].append({"pair": pair.name, **scores, **cost})
            if keep is not None and index in keep:
                outputs[(index, name)] = output
        if progress:
            progress(f"[{index + 1}/{len(pairs)}] {pair.name}")
    means = {name: {key: float(np.nanmean([row[key] for row in table])) if any(
        not np.isnan(row[key]) for row in table) else float("nan") for key in SCORES}
        for name, table in rows.items()}
    return means, rows, outputs


HEADERS = ("method", "content dist. ↓", "structure SSIM ↑", "style loss ↓", "colour rel. ↑", "texture rel. ↑",
           "seconds", "peak MB", "attention MB")


def _cell(value: float, digits: int) -> str:
    return "–" if np.isnan(value) else f"{value:.{digits}f}"


def markdown_table(means: dict[str, dict[str, float]]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for name, values in means.items():
        cells = [_cell(values["content"], 3), _cell(values["structure"], 3), _cell(values["style"], 4),
                 _cell(values["colour"], 3), _cell(values["texture"], 3), _cell(values["seconds"], 2),
                 _cell(values["peak_mb"], 0), _cell(values["attention_mb"], 2)]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def bilevel_against_full(means: dict[str, dict[str, float]]) -> dict[str, float]:
    """Relative differences (bi-level vs full attention) of each quality score, and the memory ratio."""
    full, bilevel = means["ours, full attention"], means["ours, bi-level attention (default), strength 1"]
    result = {key: abs(bilevel[key] - full[key]) / max(abs(full[key]), 1e-12)
              for key in ("content", "structure", "style", "colour", "texture")}
    result["attention_ratio"] = bilevel["attention_mb"] / full["attention_mb"]
    return result
