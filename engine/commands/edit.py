"""``simnet edit IMAGE --source-mask S --target-mask T -o OUT``: one edit, headless."""
from __future__ import annotations

import argparse

from engine.errors import SimNetError
from engine.manipulator import DEFAULT_ALIGN_STEPS, Manipulator
from engine.pipeline import edit_inputs, read_inputs


def add_model_options(parser: argparse.ArgumentParser) -> None:
    """``--device``, ``--checkpoint`` and ``--align-steps``, shared by every command that runs the model."""
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where the network runs (default: CUDA when present, else CPU)")
    parser.add_argument("--checkpoint", default=None, metavar="PATH",
                        help="SIM-Net checkpoint (default: the one shipped in resources/)")
    parser.add_argument("--align-steps", type=int, default=DEFAULT_ALIGN_STEPS, metavar="N",
                        help=f"test-time alignment steps of the local affines (default {DEFAULT_ALIGN_STEPS}; "
                             "0: the network's field as it is)")


def add_reach_option(parser: argparse.ArgumentParser) -> None:
    """``--reach``: the transition's width around the region and its new shape."""
    parser.add_argument("--reach", type=float, default=None, metavar="PX",
                        help="width in pixels of the transition around the region and its new shape; nothing "
                             "farther away changes (default: 6 %% of the region's size, at least 4 px)")


def reach_from_args(args: argparse.Namespace) -> float | None:
    if args.reach is not None and not (args.reach >= 0 and args.reach < float("inf")):
        raise SimNetError("--reach must be a distance of 0 pixels or more")
    return args.reach


def manipulator_from_args(args: argparse.Namespace) -> Manipulator:
    """The model the common options ask for."""
    if args.align_steps < 0:
        raise SimNetError("--align-steps must be 0 or more")
    return Manipulator(args.checkpoint, device=args.device, align_steps=args.align_steps)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("edit", help="reshape a region of an artwork",
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
