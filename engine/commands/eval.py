"""``simnet eval``: the shipped model against classical baselines on held-out painting edits."""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from engine.commands import add_command
from engine.commands.options import add_model_options, check_outputs, manipulator_from_args
from engine.errors import SimNetError

DEFAULT_ARTWORKS = Path("..") / "shared" / "data" / "artworks"
#: Tuning photographs (``--bsds-val``): tune on these, report on the paintings.
DEFAULT_BSDS_VAL = Path("..") / "shared" / "data" / "bsds500" / "images" / "val"


def find_images(argument: str | None, default: Path, what: str) -> Path:
    if argument:
        folder = Path(argument)
        if not folder.is_dir():
            raise SimNetError(f"{folder} is not a folder of {what}")
        return folder
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / default
        if candidate.is_dir():
            return candidate
    raise SimNetError(f"no {what} found: pass --artworks DIR (default {default})")


def evaluation_folder(args: argparse.Namespace) -> Path:
    """The images an evaluation command scores: ``--artworks`` (default the held-out paintings), or
    with ``--bsds-val`` the BSDS500 validation photographs it is tuned on."""
    if args.bsds_val:
        return find_images(args.artworks, DEFAULT_BSDS_VAL, "photographs")
    return find_images(args.artworks, DEFAULT_ARTWORKS, "paintings")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "eval",
                         description="Seeded edits of regions of held-out paintings (affine, non-rigid, "
                                     "moved layer, growth; single, border-cut and two-part regions), scored "
                                     "against true results built apart from the product's code.")
    parser.add_argument("--artworks", default=None, help="folder of paintings (default ../shared/data/artworks)")
    parser.add_argument("--bsds-val", action="store_true",
                        help="use the BSDS500 validation photographs instead (for tuning; default folder "
                             "../shared/data/bsds500/images/val, or --artworks DIR)")
    parser.add_argument("--edits-per-kind", type=int, default=14,
                        help="edits in each group (affine, non-rigid, moved layer, growth)")
    parser.add_argument("--paintings", type=int, default=0, help="use only the first N images (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="OUT", help="write the numbers, per edit too, as JSON")
    parser.add_argument("--figure", metavar="OUT.png", help="write side-by-side examples")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    add_model_options(parser)
    parser.set_defaults(func=run)


def _finite(value: object) -> object:
    """JSON has no NaN: undefined scores become null."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


def run(args: argparse.Namespace) -> int:
    check_outputs(args.json, images=(args.figure,))
    from engine.atomic import atomic_write_bytes
    from engine.evaluation.dataset import build_edits, list_paintings
    from engine.evaluation.paper_tables import PAPER_LEGEND, paper_markdown
    from engine.evaluation.report import LEGEND, figure, markdown_table, text_table
    from engine.evaluation.runner import ALL_EDITS, BASELINES, run_methods, simnet_methods
    from engine.imageio import save_image

    folder = evaluation_folder(args)
    paintings = list_paintings(folder)
    if args.paintings:
        paintings = paintings[:args.paintings]
    edits = build_edits(folder, args.edits_per_kind, args.seed, paintings)
    if not edits:
        raise SimNetError("no usable regions found in the paintings")
    manipulator = manipulator_from_args(args)
    methods = {**BASELINES, **simnet_methods(manipulator)}
    picked = [i for group in dict.fromkeys(edit.group for edit in edits)
              for i in [j for j, e in enumerate(edits) if e.group == group][:2]]
    scores = run_methods(edits, methods, keep_outputs=set(picked) if args.figure else None,
                         progress=lambda message: print(message, file=sys.stderr, flush=True))
    summary = scores.table(edits)
    counts = {group: len(edits) if group == ALL_EDITS else sum(edit.group == group for edit in edits)
              for group in summary}
    print(markdown_table(summary, counts) if args.markdown else text_table(summary, counts))
    print(("\n" if args.markdown else "") + LEGEND)
    print("\n" + paper_markdown(summary[ALL_EDITS] if ALL_EDITS in summary else next(iter(summary.values())),
                                len(edits)) + "\n\n" + PAPER_LEGEND)
    if args.json:
        payload = {"seed": args.seed, "images": str(folder), "paintings": [p.name for p in paintings],
                   "counts": counts, "summary": summary,
                   "by_layout": scores.breakdown(edits, lambda edit: edit.edit.layout),
                   "by_kind": scores.breakdown(edits, lambda edit: edit.edit.kind),
                   "edits": [edit.describe() for edit in edits],
                   "per_edit": scores.per_edit}
        atomic_write_bytes(args.json, json.dumps(_finite(payload), indent=2).encode())
    if args.figure:
        shown = [name for name in ("register", *simnet_methods(manipulator)) if name in scores.outputs]
        save_image(args.figure, figure([edits[i] for i in picked], {name: scores.outputs[name] for name in shown},
                                       rows=len(picked)))
    return 0
