"""``simnet edit IMAGE --source-mask S --target-mask T -o OUT``: one edit, headless."""
from __future__ import annotations

import argparse

from engine.commands import add_command
from engine.commands.options import add_model_options, add_reach_option, manipulator_from_args, reach_from_args


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "edit",
                         description="Reshape the region SOURCE_MASK of IMAGE into TARGET_MASK.")
    parser.add_argument("image", help="the artwork (PNG, JPEG, TIFF, WebP)")
    parser.add_argument("--source-mask", required=True, metavar="PATH", help="the region as it is (PNG, white = region)")
    parser.add_argument("--target-mask", required=True, metavar="PATH", help="the region as it should be")
    parser.add_argument("-o", "--output", required=True, metavar="PATH", help="where to write the result")
    parser.add_argument("--overwrite-original", action="store_true", help="allow OUTPUT to be the input artwork")
    add_reach_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.pipeline import edit_inputs, read_inputs  # torch: only when an edit runs, not for --help

    reach = reach_from_args(args)
    inputs = read_inputs(args.image, args.source_mask, args.target_mask, args.output,
                         overwrite_original=args.overwrite_original)
    manipulator = manipulator_from_args(args)
    result = edit_inputs(manipulator, inputs, reach=reach)
    for message in result.messages:
        print(message)
    x0, y0, x1, y1 = result.box
    area = f"area {x1 - x0}x{y1 - y0} at ({x0}, {y0})" if result.changed else "no change (masks are equal)"
    how = f", {result.mode}, reach {result.reach:.0f} px" if result.changed else ""
    print(f"wrote {args.output}: {area}{how}, edit {result.timings['total']:.2f} s on {manipulator.device}, "
          f"write {result.timings['write']:.2f} s")
    return 0
