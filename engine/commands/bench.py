"""``simnet bench``: timings and memory of edits at several sizes (see engine/benchmark.py)."""
from __future__ import annotations

import argparse
import json
import sys

from engine.commands import add_command
from engine.commands.options import add_model_options

DEFAULT_SIZES = "512,1024,2048,4096x2160,7680x4320"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "bench")
    parser.add_argument("--sizes", default=None,
                        help=f"canvas sizes, W or WxH (default {DEFAULT_SIZES}; empty: none; with --restyle, default "
                             "4096x2160, e.g. 7680x4320 for 8K)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    add_model_options(parser)
    parser.add_argument("--end-to-end", action="store_true",
                        help="also measure edits file to file: simnet batch at 4096x2160 (10%% region), simnet edit "
                             "on the sample, PNG export at 8K, a small region on 1K and 8K canvases")
    parser.add_argument("--interactive", action="store_true",
                        help="only a 60-frame Transform drag on 1 MP, 4K and 8K paintings: live frame time, settle "
                             "after the release, Apply after the preview (engine/bench_interactive.py)")
    parser.add_argument("--restyle", action="store_true",
                        help="only the restyle: simnet restyle's whole process at 4096x2160 or --sizes (10%% region, "
                             "exemplar region of the same file) and the editor's preview after a strength change "
                             "(engine/bench_restyle.py)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.bench_common import parse_sizes
    from engine.benchmark import run_benchmark
    from engine.errors import SimNetError
    from engine.imageio import max_pixels_from_environment

    try:
        sizes = parse_sizes(DEFAULT_SIZES if args.sizes is None else args.sizes, max_pixels_from_environment())
    except ValueError as error:
        raise SimNetError(f"--sizes {args.sizes!r}: {error}") from None
    if args.repeats < 1 or args.warmup < 0:
        raise SimNetError("--repeats must be at least 1 and --warmup at least 0")
    if args.align_steps < 0:
        raise SimNetError("--align-steps must be 0 or more")
    report = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else (lambda line: print(line, flush=True))
    if args.interactive:
        from engine.bench_interactive import run_interactive
        from engine.manipulator import Manipulator

        rows = run_interactive(Manipulator(args.checkpoint, device=args.device), report)
        if args.json:
            print(json.dumps({"interactive": rows}, indent=2))
        return 0
    if args.restyle:
        from engine.bench_restyle import run_restyle_bench

        rows = [run_restyle_bench(args.repeats, args.warmup, report, size)
                for size in ([None] if args.sizes is None else sizes)]
        if args.json:
            print(json.dumps({"restyle": rows[0] if len(rows) == 1 else rows}, indent=2))
        return 0
    results = run_benchmark(sizes, args.device, args.repeats, args.warmup, args.checkpoint, report,
                            end_to_end=args.end_to_end, align_steps=args.align_steps)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        machine = results["machine"]
        print(f"machine: {machine['cpu']}, {machine['cores']} cores, torch {machine['torch']} on {machine['device']}")
    return 0
