"""Timings of the built-in segmenter for ``simnet bench``: the image embedding of a painting-sized
canvas (done once per image, in the background) and the answer to a click after it (a single click
with its candidates, and a refining click with the previous mask)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from engine.segmentation.learned import LearnedSegmenter


def painting_like(width: int, height: int, seed: int = 0) -> np.ndarray:
    """Smooth colour areas with brush-like noise: a stand-in canvas with regions to click."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_NEAREST).astype(np.float32)
    image += cv2.resize(rng.normal(0, 12, (height // 4 + 1, width // 4 + 1, 3)).astype(np.float32), (width, height))
    return np.clip(image, 0, 255).astype(np.uint8)


def _median_and_spread(samples: list[float]) -> dict[str, float]:
    quartiles = statistics.quantiles(samples, n=4) if len(samples) > 1 else [samples[0]] * 3
    return {"median_s": statistics.median(samples), "iqr_s": quartiles[2] - quartiles[0], "runs": len(samples)}


def bench_segmenter(sizes: list[tuple[int, int]] = [(2000, 1500)], repeats: int = 5, warmup: int = 1,
                    checkpoint: str | Path | None = None,
                    report: Callable[[str], None] = print) -> list[dict[str, object]]:
    """Per canvas size (width, height): embedding time, single-click time and refining-click time."""
    segmenter = LearnedSegmenter(checkpoint)
    results = []
    for width, height in sizes:
        image = painting_like(width, height)
        embeds, clicks, refines = [], [], []
        for run in range(warmup + repeats):
            image[0, 0, 0] ^= 1 + run % 2  # a new image each time: the embedding is not reused
            started = time.perf_counter()
            segmenter.set_image(image)
            embed_s = time.perf_counter() - started
            started = time.perf_counter()
            first = segmenter.predict([(width * 0.3, height * 0.4)], [1])
            click_s = time.perf_counter() - started
            started = time.perf_counter()
            segmenter.predict([(width * 0.3, height * 0.4), (width * 0.7, height * 0.6)], [1, 0], previous_mask=first.best)
            refine_s = time.perf_counter() - started
            if run >= warmup:
                embeds.append(embed_s)
                clicks.append(click_s)
                refines.append(refine_s)
        row = {"size": f"{width}x{height}", "embedding": _median_and_spread(embeds),
               "click": _median_and_spread(clicks), "refining_click": _median_and_spread(refines)}
        report(f"segmenter {width}x{height}: embedding {row['embedding']['median_s'] * 1000:.0f} ms, "
               f"click {row['click']['median_s'] * 1000:.0f} ms, refining click {row['refining_click']['median_s'] * 1000:.0f} ms")
        results.append(row)
    return results
