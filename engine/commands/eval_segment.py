"""``simnet eval-segment --data BSDS500``: interactive segmentation metrics (mean IoU after 1 and 3
clicks, NoC@85, NoC@90) of GrabCut, the built-in segmenter and SAM (with --sam-checkpoint) on the
same simulated clicks; protocol in engine/segmentation/evaluation.py."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from engine.commands import add_command
from engine.commands.options import check_outputs


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "eval_segment",
                         description="Simulated-click evaluation of the segmenters on BSDS500 human regions.")
    parser.add_argument("--data", default="../shared/data/bsds500", help="the BSDS500 folder (images/, groundTruth/; "
                        "default ../shared/data/bsds500, as simnet train)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"))
    parser.add_argument("--limit", type=int, default=None, help="use only the first N photos")
    parser.add_argument("--per-photo", type=int, default=1, help="target regions per photo (default 1)")
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--segmenter-checkpoint", default=None, help="the built-in segmenter's weights (default: shipped)")
    parser.add_argument("--sam-checkpoint", default=None, help="also evaluate Segment Anything with these weights")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--rows", default="grabcut,builtin", metavar="LIST",
                        help="which segmenters besides SAM: grabcut, builtin or both (default grabcut,builtin)")
    parser.add_argument("--paintings", default=None, metavar="FOLDER",
                        help="also click a 4x4 grid on each painting here (no labels: sizes of first answers only)")
    parser.add_argument("--enlarge", type=int, default=1, metavar="K",
                        help="enlarge the photographs K times (as large as paintings, which the segmenters reduce)")
    parser.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_outputs(args.json)
    from engine.atomic import atomic_write_bytes
    from engine.errors import SimNetError
    from engine.segmentation import FallbackSegmenter
    from dataclasses import asdict

    from engine.imageio import load_image
    from engine.segmentation.evaluation import (bsds_photos, enlarged_photos, evaluate_segmenter, markdown_table,
                                                painting_clicks)
    from engine.segmentation.learned import LearnedSegmenter
    from engine.segmentation.sam import SamSegmenter

    if args.max_clicks < 3 or args.per_photo < 1 or (args.limit is not None and args.limit < 1):
        raise SimNetError("--max-clicks must be at least 3, --per-photo and --limit at least 1")
    if not 1 <= args.enlarge <= 8:
        raise SimNetError(f"--enlarge {args.enlarge}: give a whole factor from 1 to 8")
    rows_wanted = {row.strip() for row in args.rows.split(",") if row.strip()}
    if not rows_wanted <= {"grabcut", "builtin"} or not (rows_wanted or args.sam_checkpoint):
        raise SimNetError(f"--rows {args.rows!r}: give grabcut, builtin or grabcut,builtin")
    segmenters = [FallbackSegmenter()] if "grabcut" in rows_wanted else []
    if "builtin" in rows_wanted:
        segmenters.append(LearnedSegmenter(args.segmenter_checkpoint))
    if args.sam_checkpoint:
        from engine.devices import auto_device

        segmenters.append(SamSegmenter(args.sam_checkpoint, auto_device(args.device)))
    report = lambda line: print(line, file=sys.stderr, flush=True)
    rows = []
    for segmenter in segmenters:
        photos = enlarged_photos(bsds_photos(Path(args.data), args.split, args.limit), args.enlarge)
        rows.append(evaluate_segmenter(segmenter, photos,
                                       per_photo=args.per_photo, max_clicks=args.max_clicks, report=report))
        report(f"{segmenter.name}: done")
    enlarged = f", enlarged {args.enlarge}x" if args.enlarge > 1 else ""
    print(f"BSDS500 {args.split}{enlarged}, {rows[0].regions} regions ({args.per_photo} per photo), "
          f"at most {args.max_clicks} clicks")
    print(markdown_table(rows, args.max_clicks))
    paintings = []
    if args.paintings:
        if not Path(args.paintings).is_dir():
            raise SimNetError(f"--paintings {args.paintings}: no such folder")
        paths = sorted(path for path in Path(args.paintings).iterdir()
                       if path.suffix.lower() in (".jpg", ".jpeg", ".png", ".tif", ".tiff"))
        if not paths:
            raise SimNetError(f"no paintings (.jpg, .png, .tif) in {args.paintings}")
        print(f"\nPaintings in {args.paintings} ({len(paths)}; no region labels, so no IoU): single clicks on a 4x4 grid")
        print("| segmenter | clicks | median first answer | first answers over half the painting | no answer |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for segmenter in segmenters:
            result = painting_clicks(segmenter, (load_image(path).pixels for path in paths))
            paintings.append(asdict(result))
            print(f"| {result.segmenter} | {result.clicks} | {100 * result.median_area:.1f} % | "
                  f"{100 * result.over_half:.1f} % | {100 * result.empty:.1f} % |")
    if args.json:
        payload = {"split": args.split, "max_clicks": args.max_clicks, "per_photo": args.per_photo,
                   "rows": [row.as_dict() for row in rows], "paintings": paintings}
        atomic_write_bytes(args.json, json.dumps(payload, indent=2).encode(), SimNetError)
    return 0
