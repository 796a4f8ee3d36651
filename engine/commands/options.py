"""Options shared by several commands. Light: the model is imported only when one is built, so a
command that never runs SIM-Net (``simnet restyle``, a restyle-only batch) never loads torch."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from engine.edit_defaults import DEFAULT_ALIGN_STEPS, RESAMPLINGS
from engine.errors import SimNetError

if TYPE_CHECKING:
    from engine.manipulator import Manipulator


def numbers(text: str, count: int, what: str) -> tuple[float, ...]:
    """``count`` comma-separated numbers (an argparse type's work); a clear error otherwise."""
    parts = text.split(",")
    try:
        values = tuple(float(part) for part in parts)
    except ValueError:
        values = ()
    if len(values) != count:
        raise argparse.ArgumentTypeError(f"{what} must be {count} comma-separated numbers, got {text!r}")
    return values


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


def add_resampling_option(parser: argparse.ArgumentParser) -> None:
    """``--resampling``: how the artwork is read where the region moves."""
    parser.add_argument("--resampling", default=RESAMPLINGS[0], choices=RESAMPLINGS,
                        help="how the moved and reshaped paint is read between pixels: bilinear (default) or "
                             "bicubic (sharper brushwork when rotating or scaling)")


def checked_reach(reach: float | None, what: str = "--reach") -> float | None:
    """``reach`` (None: the default), refused in one line naming ``what`` unless a finite distance of 0 or more."""
    if reach is not None and not (reach >= 0 and reach < float("inf")):
        raise SimNetError(f"{what} must be a distance of 0 pixels or more")
    return None if reach is None else reach + 0.0  # -0 is 0


def check_outputs(*paths: str | Path | None, images: tuple[str | Path | None, ...] = ()) -> None:
    """Refuse, before any work, an output file that could not be written at the end (its folder missing or
    read-only, or a folder of that name), and an image output of an unknown extension: an evaluation found
    out after its whole run."""
    from engine.atomic import check_writable
    from engine.imageio import output_format

    for path in images:
        if path:
            output_format(path)
    for path in (*paths, *images):
        if path:
            check_writable(path)


def pixels_text(distance: float) -> str:
    """A distance as a report says it: "6 px", "0.5 px" (a reach of 0.5 was reported as 0 px)."""
    return f"{distance:.2f}".rstrip("0").rstrip(".") + " px"


def reach_from_args(args: argparse.Namespace) -> float | None:
    return checked_reach(args.reach)


def manipulator_from_args(args: argparse.Namespace) -> Manipulator:
    """The model the common options ask for."""
    if args.align_steps < 0:
        raise SimNetError("--align-steps must be 0 or more")
    from engine.manipulator import Manipulator  # torch: only for the commands that edit

    return Manipulator(args.checkpoint, device=args.device, align_steps=args.align_steps)


def check_run_to_resume(out: str | Path, resume: bool = True, *, can_start_afresh: bool = True) -> None:
    """A training run's ``OUT/last.pt``, when it will be resumed, is a whole PyTorch archive (each record's checksum);
    otherwise one line that says how to go on, before any data is read (a truncated copy raised a traceback).
    ``can_start_afresh``: the command has --no-resume."""
    from engine.checkpoint import check_archive  # torch: only for the commands that train

    folder = Path(out)
    if folder.exists() and not folder.is_dir():  # it raised FileExistsError or NotADirectoryError
        raise SimNetError(f"--out {folder} is a file, not a folder: give the run's folder (made if missing)")
    blocked = next((parent for parent in folder.parents if parent.exists() and not parent.is_dir()), None)
    if blocked is not None:
        raise SimNetError(f"--out {folder} lies under the file {blocked}: give a folder")
    last = folder / "last.pt"
    if resume and last.is_file():
        try:
            check_archive(last, "the run's checkpoint")
        except SimNetError as error:
            way = "start afresh with --no-resume, or give another --out" if can_start_afresh else (
                f"give another --out, or move {last} away to start afresh")
            raise SimNetError(f"{error}: {way}") from None
