"""``simnet segment IMAGE --point X,Y ... -o MASK.png``: a region mask from clicks or a box."""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from engine.commands import add_command
from engine.commands.options import check_outputs, numbers
from engine.errors import SegmentationError


def point(text: str) -> tuple[float, float]:
    return numbers(text, 2, "a point")  # type: ignore[return-value]


def box(text: str) -> tuple[float, float, float, float]:
    return numbers(text, 4, "a box")  # type: ignore[return-value]


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(subparsers, "segment",
                         description="Segment the region under the prompts with the built-in trained "
                                     "segmenter, or Segment Anything (--sam-checkpoint).")
    parser.add_argument("image")
    parser.add_argument("--point", type=point, action="append", default=[], metavar="X,Y", help="a point inside the region")
    parser.add_argument("--negative", type=point, action="append", default=[], metavar="X,Y", help="a point outside it")
    parser.add_argument("--box", type=box, default=None, metavar="X0,Y0,X1,Y1")
    parser.add_argument("--sam-checkpoint", default=None, metavar="PATH", help="SAM vit_b/vit_l/vit_h weights")
    parser.add_argument("--segmenter-checkpoint", default=None, metavar="PATH",
                        help="the built-in segmenter's weights (default: the shipped resources/segmenter.pt)")
    parser.add_argument("--candidates", action="store_true",
                        help="print every candidate (size and score) the prompts give, and which one is written")
    parser.add_argument("--candidate", type=int, default=None, metavar="N",
                        help="write candidate N (1 = the smallest) instead of the one shown first")
    parser.add_argument("--auto", action="store_true", help="all regions: a label PNG (or a folder if -o has no suffix)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                        help="where SAM runs (default: CUDA when present); the built-in segmenter runs on the CPU")
    parser.add_argument("-o", "--output", required=True, metavar="MASK.png")
    parser.set_defaults(func=run)


def plural(count: int, thing: str) -> str:
    return f"{count} {thing}" + ("" if count == 1 else "s")


def run(args: argparse.Namespace) -> int:
    if not (args.auto and Path(args.output).suffix == ""):  # --auto into a folder makes the folder
        check_outputs(args.output)
    from engine.atomic import same_file

    if same_file(Path(args.image), Path(args.output)):  # the mask was written over the painting
        raise SegmentationError(f"{args.output} is the artwork itself; choose another output for the mask")
    from engine.devices import resolve_device
    from engine.imageio import load_image, output_format, save_image, save_mask
    from engine.segmentation import load_segmenter

    resolve_device(args.device)  # CUDA asked for and absent: one line, as every command says it
    if args.auto and Path(args.output).suffix and output_format(args.output) in ("JPEG", "WEBP"):
        # lossy: a label's number would be blurred into its neighbours' at every edge
        raise SegmentationError(f"{args.output}: a label image must be lossless; write it as .png or .tif, "
                                "or give a folder for one mask a region")
    image = load_image(args.image).pixels
    segmenter = load_segmenter(args.sam_checkpoint, args.device, args.segmenter_checkpoint)
    if segmenter.notice:
        print(f"simnet segment: notice: {segmenter.notice}", file=sys.stderr)
    segmenter.set_image(image)
    output = Path(args.output)
    if args.auto:
        regions = segmenter.everything()
        if not regions:
            raise SegmentationError("no regions found")
        if output.suffix == "":
            output.mkdir(parents=True, exist_ok=True)
            written = [f"region_{index:03d}.png" for index in range(1, len(regions) + 1)]
            for name, region in zip(written, regions):
                save_mask(output / name, region)
            # An earlier run's masks beyond this run's count would pass for this painting's (another size even).
            stale = [path for path in output.glob("region_*.png")
                     if re.fullmatch(r"region_\d{3,}\.png", path.name) and path.name not in written]
            for path in stale:
                path.unlink()
            removed = f"; removed {len(stale)} left from an earlier run" if stale else ""
            print(f"wrote {plural(len(regions), 'region mask')} to {output}/ ({segmenter.name}){removed}")
            return 0
        labels = np.zeros(image.shape[:2], np.uint16 if len(regions) > 255 else np.uint8)
        regions.sort(key=lambda region: -int(region.sum()))
        for index, region in enumerate(regions, start=1):
            labels[region] = index  # largest first, so smaller regions stay visible on top
        save_image(output, labels[..., None])
        print(f"wrote {output}: {plural(len(regions), 'region')} labelled 1..{len(regions)} ({segmenter.name})")
        return 0
    points = list(args.point) + list(args.negative)
    labels = [1] * len(args.point) + [0] * len(args.negative)
    if not points and args.box is None:
        raise SegmentationError("give --point, --box or --auto")
    prediction = segmenter.predict(points, labels, args.box)
    index = prediction.best_index
    if args.candidate is not None:
        if not 1 <= args.candidate <= len(prediction.masks):
            raise SegmentationError(f"--candidate {args.candidate}: these prompts give {len(prediction.masks)} candidates")
        index = args.candidate - 1
    if args.candidates:
        for number, (candidate, score) in enumerate(zip(prediction.masks, prediction.scores), start=1):
            marker = "  <- written" if number - 1 == index else ""
            print(f"candidate {number}: {100 * candidate.mean():.1f} % of the image, score {score:.2f}{marker}")
    mask = prediction.masks[index]
    if not mask.any():
        raise SegmentationError("the region is empty; nothing was written")
    save_mask(output, mask)
    print(f"wrote {output}: {int(mask.sum())} pixels ({100 * mask.mean():.1f} % of the image) with {segmenter.name}")
    return 0
