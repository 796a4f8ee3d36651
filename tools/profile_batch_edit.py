"""Where the time of one ``simnet batch`` edit goes: a real region of about 10 % of a 4096x2160 painting,
moved farther than the reach can bend (so the moved layer is carried and its old place filled).

The painting is the shipped sample resized; the region is the colour-cluster region closest to 10 %
(``engine.evaluation.regions``), moved sideways by 1.15x its width. The model is loaded and warmed
first; then ``--runs`` batch edits are timed (wall and CPU), and one more is profiled (cProfile,
cumulative CPU seconds of the main stages). First, the fill alone on three elliptical holes of 5 %
of the canvas (wall and CPU seconds, each filled twice).

usage: python tools/profile_batch_edit.py [--runs 3] [--top 25] [--fill-only] [--default-allocator]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.batch_runner import FileEdit, run_batch  # noqa: E402
from engine.bench_end_to_end import painting  # noqa: E402
from engine.evaluation.regions import split_regions  # noqa: E402
from engine.imageio import save_image, save_mask  # noqa: E402
from engine.manipulator import Manipulator  # noqa: E402
from engine.memory import keep_freed_memory  # noqa: E402

WIDTH, HEIGHT = 4096, 2160
STAGES = ("read", "prepare", "network", "align", "render", "write")


def region_and_target(image: np.ndarray, area: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The colour-cluster region closest to 10 % of the canvas (scaled about its centre to ``area``
    of the canvas when given: the same real outline, larger) and its new shape, moved sideways."""
    import cv2

    inside, _ = split_regions(image, 0)
    region = min(inside, key=lambda mask: abs(mask.mean() - 0.10))
    if area is not None:
        ys, xs = np.nonzero(region)
        scale = float(np.sqrt(area / region.mean()))
        grow = cv2.getRotationMatrix2D((float(xs.mean()), float(ys.mean())), 0.0, scale)
        region = cv2.warpAffine(region.view(np.uint8), grow, (WIDTH, HEIGHT), flags=cv2.INTER_NEAREST) > 0
    xs = np.flatnonzero(region.any(axis=0))
    shift = int(1.15 * (xs[-1] - xs[0] + 1))
    shift = shift if xs[-1] + shift < WIDTH else -shift
    target = np.zeros_like(region)
    if shift > 0:
        target[:, shift:] = region[:, :-shift]
    else:
        target[:, :shift] = region[:, -shift:]
    return region, target


def time_fill(image: np.ndarray) -> None:
    import cv2

    from engine.fill import fill_window

    for number, (cx, cy) in enumerate([(2000, 1000), (1200, 700), (3000, 1500)]):
        hole = np.zeros(image.shape[:2], np.uint8)
        cv2.ellipse(hole, ((cx, cy), (850, 660), 20 * number), 1, -1)
        hole = hole > 0
        ys, xs = np.nonzero(hole)
        box = (int(xs.min()) - 30, int(ys.min()) - 30, int(xs.max()) + 31, int(ys.max()) + 31)
        inner = hole[box[1]:box[3], box[0]:box[2]]
        for _ in range(2):
            started, cpu = time.perf_counter(), time.process_time()
            fill_window(image, inner, box, forbidden=inner)
            print(f"fill of a {100 * hole.mean():.1f} % hole: wall {time.perf_counter() - started:.3f} s, "
                  f"cpu {time.process_time() - cpu:.3f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sort", default="cumulative", help="cProfile sort key (cumulative, tottime)")
    parser.add_argument("--area", type=float, default=None,
                        help="scale the region about its centre to this share of the canvas (e.g. 0.10)")
    parser.add_argument("--fill-only", action="store_true", help="only time the fill of 5 %% holes")
    parser.add_argument("--default-allocator", action="store_true",
                        help="leave glibc's allocator as it is (the commands keep freed memory: engine.memory)")
    args = parser.parse_args()
    if not args.default_allocator:
        keep_freed_memory()  # as the simnet command does, before any thread starts
    image = painting(WIDTH, HEIGHT)
    time_fill(image)
    if args.fill_only:
        return 0
    folder = Path(tempfile.mkdtemp())
    source, target = region_and_target(image, args.area)
    paths = [folder / name for name in ("art.png", "source.png", "target.png")]
    save_image(paths[0], image)
    save_mask(paths[1], source)
    save_mask(paths[2], target)
    moved = 100 * (target & ~source).sum() / source.sum()
    print(f"region {100 * source.mean():.1f} % of {WIDTH}x{HEIGHT}, moved {moved:.0f} % off its old place")
    manipulator = Manipulator(device="cpu")
    results = []

    def edit(index: int) -> None:
        run_batch(manipulator, [FileEdit(*paths, folder / f"out_{index}.png")],
                  lambda _, outcome: results.append(outcome))

    edit(0)  # warm: one-time set-up
    for index in range(args.runs):
        started, cpu = time.perf_counter(), time.process_time()
        edit(index + 1)
        timings = results[-1].timings
        print(f"run {index + 1}: wall {time.perf_counter() - started:.2f} s, cpu {time.process_time() - cpu:.2f} s; "
              + ", ".join(f"{stage} {timings.get(stage, 0.0):.2f}" for stage in STAGES) + f"; mode {results[-1].mode}")
    profile = cProfile.Profile()
    profile.enable()
    edit(args.runs + 1)
    profile.disable()
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats(args.sort).print_stats(args.top)
    print(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
