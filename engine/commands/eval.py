"""``simnet eval``: the shipped model against three baselines on held-out painting edits."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.commands.edit import add_model_options, manipulator_from_args
from engine.errors import SimNetError

DEFAULT_ARTWORKS = Path("..") / "shared" / "data" / "artworks"


def find_artworks(argument: str | None) -> Path:
    if argument:
        folder = Path(argument)
        if not folder.is_dir():
            raise SimNetError(f"{folder} is not a folder of paintings")
        return folder
    for base in (Path.cwd(), Path(__file__).resolve().parents[2]):
        candidate = base / DEFAULT_ARTWORKS
        if candidate.is_dir():
            return candidate
    raise SimNetError("no paintings found: pass --artworks DIR (default ../shared/data/artworks)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="score the model and baselines on held-out painting edits",
                                   description="Seeded synthetic edits of regions of held-out paintings, scored "
                                               "against their true results.")
    parser.add_argument("--artworks", default=None, help="folder of paintings (default ../shared/data/artworks)")
    parser.add_argument("--edits-per-kind", type=int, default=18, help="edits in each group (affine, non-rigid)")
    parser.add_argument("--paintings", type=int, default=0, help="use only the first N paintings (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="OUT", help="write the numbers as JSON")
    parser.add_argument("--figure", metavar="OUT.png", help="write side-by-side examples")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.atomic import atomic_write_bytes
    from engine.evaluation.dataset import build_edits, list_paintings
    from engine.evaluation.report import figure, markdown_table, text_table
    from engine.evaluation.runner import ALL_EDITS, BASELINES, REFERENCES, run_methods
    from engine.imageio import save_image

    folder = find_artworks(args.artworks)
    paintings = list_paintings(folder)
    if args.paintings:
        paintings = paintings[:args.paintings]
    edits = build_edits(folder, args.edits_per_kind, args.seed, paintings)
    if not edits:
        raise SimNetError("no usable regions found in the paintings")
    manipulator = manipulator_from_args(args)

    def simnet(image, source, target):
        result = manipulator.edit(image, source, target)
        return result.image, result.warped_mask

    methods = {**BASELINES, "SIM-Net": simnet}
    scores = run_methods(edits, methods, keep_outputs=len(edits) if args.figure else 0,
                         progress=lambda message: print(message, file=sys.stderr, flush=True), references=REFERENCES)
    summary = scores.table(edits)
    counts = {group: len(edits) if group == ALL_EDITS else sum(edit.group == group for edit in edits)
              for group in summary}
    print(markdown_table(summary, counts) if args.markdown else text_table(summary, counts))
    if args.json:
        payload = {"seed": args.seed, "paintings": [p.name for p in paintings], "counts": counts, "summary": summary,
                   "per_edit": scores.per_edit}
        atomic_write_bytes(args.json, json.dumps(payload, indent=2).encode())
    if args.figure:
        picked = [i for group in summary if group != ALL_EDITS
                  for i in [j for j, e in enumerate(edits) if e.group == group][:2]]
        columns = {name: [scores.outputs[name][i] for i in picked] for name in ("register", "SIM-Net")}
        save_image(args.figure, figure([edits[i] for i in picked], columns))
    return 0
