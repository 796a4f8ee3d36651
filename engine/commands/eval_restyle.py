"""``simnet eval-restyle``: restyles of held-out paintings' regions from other paintings, scored
against classical anchors (engine/evaluation/restyle_eval.py)."""
from __future__ import annotations

import argparse
import json
import sys

from engine.commands import add_command
from engine.commands.eval import _finite, evaluation_folder
from engine.commands.options import check_outputs
from engine.errors import SimNetError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "eval_restyle",
                         description="Each painting's largest regions restyled from another painting's "
                                     "region; content kept, style reached, seconds and memory.")
    parser.add_argument("--artworks", default=None, help="folder of paintings (default ../shared/data/artworks)")
    parser.add_argument("--bsds-val", action="store_true",
                        help="use the BSDS500 validation photographs instead (for tuning)")
    parser.add_argument("--regions-per-image", type=int, default=2, help="regions restyled per image (default 2)")
    parser.add_argument("--images", type=int, default=0, help="use only the first N images (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only-ours", action="store_true", help="skip the anchors (for tuning)")
    parser.add_argument("--json", metavar="OUT", help="write the numbers, per pair too, as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_outputs(args.json)
    from engine.atomic import atomic_write_bytes
    from engine.evaluation.restyle_eval import (bilevel_against_full, build_pairs, markdown_table,
                                                restyle_methods, run_restyle_eval)

    if args.regions_per_image < 1 or args.images < 0:
        raise SimNetError("--regions-per-image must be 1 or more and --images 0 or more")
    folder = evaluation_folder(args)
    pairs = build_pairs(folder, args.regions_per_image, args.seed, args.images)
    if not pairs:
        raise SimNetError(f"no usable region pairs found in {folder}")
    methods = restyle_methods()
    if args.only_ours:
        methods = {name: method for name, method in methods.items() if name.startswith(("ours", "input"))}
    means, rows, _ = run_restyle_eval(pairs, methods, progress=lambda text: print(text, file=sys.stderr, flush=True))
    print(f"{len(pairs)} pairs from {folder}\n")
    print(markdown_table(means))
    comparison = bilevel_against_full(means)
    print("\nbi-level vs full attention: " + ", ".join(
        f"{key} {100 * value:.1f} %" for key, value in comparison.items() if key != "attention_ratio")
          + f"; attention memory {comparison['attention_ratio']:.3f} of full")
    if args.json:
        payload = {"images": str(folder), "seed": args.seed, "pairs": [pair.name for pair in pairs],
                   "means": means, "bilevel_vs_full": comparison, "per_pair": rows}
        atomic_write_bytes(args.json, json.dumps(_finite(payload), indent=2).encode())
    return 0
