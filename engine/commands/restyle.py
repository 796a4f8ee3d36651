"""``simnet restyle IMAGE --region MASK --exemplar IMAGE2 --exemplar-region MASK2 -o OUT``: paint a
region in the style of an exemplar region (engine/restyle.py), headless."""
from __future__ import annotations

import argparse
from pathlib import Path

from engine.commands import add_command
from engine.commands.options import add_reach_option, pixels_text, reach_from_args
from engine.restyle import DEFAULT_CORRESPONDENCE
from engine.restyle_pipeline import FileRestyle, restyle_file
from models.restyle.correspondence import METHODS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "restyle",
        description="Restyle the region MASK of IMAGE with the colours and brushwork of the region MASK2 of "
                    "IMAGE2 (which may be IMAGE itself); the region keeps its structure.")
    parser.add_argument("image", help="the artwork (PNG, JPEG, TIFF, WebP)")
    parser.add_argument("--region", required=True, metavar="MASK", help="the region to restyle (white = region)")
    parser.add_argument("--exemplar", required=True, metavar="IMAGE2", help="the painting whose style to take")
    parser.add_argument("--exemplar-region", required=True, metavar="MASK2", help="the exemplar's region")
    parser.add_argument("--strength", type=float, default=1.0, metavar="S",
                        help="0: the input, 1: the exemplar's style (default 1)")
    parser.add_argument("--second-exemplar", metavar="IMAGE3", help="a second exemplar, mixed in by --mix")
    parser.add_argument("--second-exemplar-region", metavar="MASK3", help="the second exemplar's region")
    parser.add_argument("--mix", type=float, default=None, metavar="M",
                        help="share of the second exemplar's style (0..1, default 0.5; only with --second-exemplar)")
    parser.add_argument("--correspondence", choices=METHODS, default=DEFAULT_CORRESPONDENCE,
                        help=f"how the region is matched to the exemplar (default {DEFAULT_CORRESPONDENCE})")
    parser.add_argument("-o", "--output", required=True, metavar="PATH", help="where to write the result")
    parser.add_argument("--overwrite-original", action="store_true", help="allow OUTPUT to be the input artwork")
    add_reach_option(parser)
    parser.set_defaults(func=run)


def _optional(path: str | None) -> Path | None:
    return Path(path) if path is not None else None


def run(args: argparse.Namespace) -> int:
    request = FileRestyle(Path(args.image), Path(args.region), Path(args.exemplar), Path(args.exemplar_region),
                          Path(args.output), args.strength, _optional(args.second_exemplar),
                          _optional(args.second_exemplar_region), args.mix, reach_from_args(args))
    outcome = restyle_file(request, overwrite_original=args.overwrite_original, correspondence=args.correspondence)
    x0, y0, x1, y1 = outcome.box
    timings = outcome.timings
    print(f"wrote {args.output}: area {x1 - x0}x{y1 - y0} at ({x0}, {y0}), reach {pixels_text(outcome.reach)}, "
          f"read {timings['read']:.2f} s, restyle {timings['total']:.2f} s, write {timings['write']:.2f} s")
    for note in outcome.notes:
        print(f"note: {note}")
    return 0
