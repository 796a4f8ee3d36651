"""``simnet edit IMAGE --source-mask S --target-mask T -o OUT``: one edit, headless; or ``--pin FROM:TO`` (repeated)
in place of the target mask: the region bent by pins, as the editor's Warp tool bends it, and the edit follows
the pins; or ``--remove``: the region removed, its place filled from the painting around it."""
from __future__ import annotations

import argparse

from engine.commands import add_command
from engine.commands.options import (add_model_options, add_reach_option, add_resampling_option, pixels_text,
                                     manipulator_from_args, numbers, reach_from_args)


def pin(text: str) -> tuple[tuple[float, float], tuple[float, float]]:
    """``X,Y:X2,Y2``: a pin at (X, Y) of the region, dragged to (X2, Y2)."""
    if text.count(":") != 1:
        raise argparse.ArgumentTypeError(f"a pin must be X,Y:X2,Y2 (where it is, where it goes), got {text!r}")
    start, end = text.split(":")
    return numbers(start, 2, "a pin's place"), numbers(end, 2, "a pin's new place")  # type: ignore[return-value]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "edit",
                         description="Reshape the region SOURCE_MASK of IMAGE into TARGET_MASK, bend it by pins "
                                     "(--pin, as the editor's Warp tool does), or remove it (--remove).")
    parser.add_argument("image", help="the artwork (PNG, JPEG, TIFF, WebP)")
    parser.add_argument("--source-mask", required=True, metavar="PATH", help="the region as it is (PNG, white = region)")
    new_shape = parser.add_mutually_exclusive_group(required=True)
    new_shape.add_argument("--target-mask", metavar="PATH", help="the region as it should be")
    new_shape.add_argument("--pin", type=pin, action="append", metavar="X,Y:X2,Y2",
                           help="a pin at X,Y dragged to X2,Y2 (repeat it: the region bends around the pins that "
                                "stay, X,Y:X,Y; one pin moves it); the edit follows the pins")
    new_shape.add_argument("--remove", action="store_true",
                           help="remove the region: its place (with its rim) filled from the painting around it")
    parser.add_argument("-o", "--output", required=True, metavar="PATH", help="where to write the result")
    parser.add_argument("--overwrite-original", action="store_true", help="allow OUTPUT to be the input artwork")
    add_reach_option(parser)
    add_resampling_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.remove:
        return remove(args)
    from engine.pipeline import bent_by_pins, edit_inputs, read_inputs  # torch: only when an edit runs

    reach = reach_from_args(args)
    pins = args.pin or []
    inputs = read_inputs(args.image, args.source_mask, args.target_mask or args.source_mask, args.output,
                         overwrite_original=args.overwrite_original)
    if pins:
        inputs = bent_by_pins(inputs, [start for start, _ in pins], [end for _, end in pins])
    manipulator = manipulator_from_args(args)
    result = edit_inputs(manipulator, inputs, reach=reach, resampling=args.resampling)
    for message in result.messages:
        print(message)
    x0, y0, x1, y1 = result.box
    area = f"area {x1 - x0}x{y1 - y0} at ({x0}, {y0})" if result.changed else "no change (masks are equal)"
    how = f", {result.mode}, reach {pixels_text(result.reach)}" if result.changed else ""
    print(f"wrote {args.output}: {area}{how}, edit {result.timings['total']:.2f} s on {manipulator.device}, "
          f"write {result.timings['write']:.2f} s")
    return 0


def remove(args: argparse.Namespace) -> int:
    """``--remove``: no network, no motion: the region's footprint filled (``engine.removal``)."""
    from engine.pipeline import remove_file

    removal = remove_file(args.image, args.source_mask, args.output, reach=reach_from_args(args),
                          overwrite_original=args.overwrite_original)
    x0, y0, x1, y1 = removal.box
    area = (f"removed, area {x1 - x0}x{y1 - y0} at ({x0}, {y0})" if removal.changed
            else "no change (nothing around the region to fill it from)")
    print(f"wrote {args.output}: {area}, reach {pixels_text(removal.reach)}, "
          f"fill {removal.timings['total']:.2f} s, write {removal.timings['write']:.2f} s")
    return 0
