"""``simnet batch MANIFEST.jsonl``: many edits, the model loaded once, files read and written beside the edits."""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from engine.commands import add_command
from engine.commands.options import (add_model_options, add_reach_option, add_resampling_option, checked_reach,
                                     manipulator_from_args, reach_from_args)
from engine.batch_runner import FileEdit, run_batch
from engine.errors import SimNetError
from engine.restyle_pipeline import FileRestyle, RestyleOutcome

if TYPE_CHECKING:
    from engine.manipulator import EditResult

MANIFEST_KEYS = ("image", "source_mask", "target_mask", "output")
#: A restyle line has ``"op": "restyle"``, these paths, and optionally the restyle's other options.
RESTYLE_KEYS = ("image", "region", "exemplar", "exemplar_region", "output")
RESTYLE_OPTIONAL_PATHS = ("second_exemplar", "second_exemplar_region")
RESTYLE_NUMBERS = ("strength", "mix", "reach")
#: A removal line has ``"op": "remove"`` and these paths.
REMOVE_KEYS = ("image", "region", "output")
#: Every line may set its own transition width (pixels), in place of the batch's --reach.
LINE_REACH = "reach"
#: What each kind of line may hold: any other key is refused (a misspelt option must not be ignored).
ACCEPTED_KEYS = {
    "edit": {"op", *MANIFEST_KEYS, "pins", LINE_REACH},
    "restyle": {"op", *RESTYLE_KEYS, *RESTYLE_OPTIONAL_PATHS, *RESTYLE_NUMBERS},
    "remove": {"op", *REMOVE_KEYS, LINE_REACH},
}


@dataclass(frozen=True)
class BatchItem(FileEdit):
    """A manifest line's edit, with the line it came from (for error messages)."""

    line: int = 0


@dataclass(frozen=True)
class BatchRestyle(FileRestyle):
    """A manifest line's restyle, with the line it came from."""

    line: int = 0


def _check_keys(entry: dict, op: str, where: str) -> None:
    unknown = sorted(set(entry) - ACCEPTED_KEYS[op])
    if unknown:
        raise SimNetError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))} on this {op} line; it takes "
                          f"{', '.join(sorted(ACCEPTED_KEYS[op] - {'op'}))}")


def _number(entry: dict, key: str, where: str) -> float | None:
    """``entry[key]`` as a float (None when absent); anything but a number is refused."""
    if key not in entry:
        return None
    if isinstance(entry[key], bool) or not isinstance(entry[key], (int, float)):
        raise SimNetError(f"{where}: {key} must be a number")
    return float(entry[key])


def _line_reach(entry: dict, where: str) -> float | None:
    return checked_reach(_number(entry, LINE_REACH, where), f"{where}: reach")


def _restyle_item(entry: dict, folder: Path, where: str, number: int) -> BatchRestyle:
    missing = [key for key in RESTYLE_KEYS if not isinstance(entry.get(key), str)]
    if missing:
        raise SimNetError(f"{where}: missing or non-text key(s): {', '.join(missing)}")
    options: dict = {}
    for key in RESTYLE_OPTIONAL_PATHS:
        if key in entry:
            if not isinstance(entry[key], str):
                raise SimNetError(f"{where}: {key} must be a path")
            options[key] = folder / entry[key]
    for key in RESTYLE_NUMBERS:
        if key in entry:
            options[key] = _number(entry, key, where)
    return BatchRestyle(*(folder / entry[key] for key in RESTYLE_KEYS), **options, line=number)


def _remove_item(entry: dict, folder: Path, where: str, number: int) -> BatchItem:
    """A removal line: the region removed, its place filled (``simnet edit --remove``)."""
    missing = [key for key in REMOVE_KEYS if not isinstance(entry.get(key), str)]
    if missing:
        raise SimNetError(f"{where}: missing or non-text key(s): {', '.join(missing)}")
    region = folder / entry["region"]
    return BatchItem(folder / entry["image"], region, region, folder / entry["output"], remove=True,
                     reach=_line_reach(entry, where), line=number)


def _edit_item(entry: dict, folder: Path, where: str, number: int) -> BatchItem:
    """A reshape line: the two masks, or the source mask and ``"pins"`` ([[x, y, x2, y2], ...]: the region bent by
    pins, as ``simnet edit --pin`` does)."""
    if "pins" in entry and "target_mask" in entry:
        raise SimNetError(f"{where}: give target_mask or pins, not both")
    wanted = MANIFEST_KEYS if "pins" not in entry else tuple(key for key in MANIFEST_KEYS if key != "target_mask")
    missing = [key for key in wanted if not isinstance(entry.get(key), str)]
    if missing:
        raise SimNetError(f"{where}: missing or non-text key(s): {', '.join(missing)}")
    reach = _line_reach(entry, where)
    if "pins" not in entry:
        return BatchItem(*(folder / entry[key] for key in MANIFEST_KEYS), reach=reach, line=number)
    pins = entry["pins"]
    if (not isinstance(pins, list) or not pins or not all(
            isinstance(pin, list) and len(pin) == 4 and all(isinstance(value, (int, float)) and
                                                           not isinstance(value, bool) for value in pin)
            for pin in pins)):
        raise SimNetError(f"{where}: pins must be a list of [x, y, x2, y2] (a pin at x, y dragged to x2, y2)")
    source = folder / entry["source_mask"]
    return BatchItem(folder / entry["image"], source, source, folder / entry["output"],
                     tuple(((float(x), float(y)), (float(x2), float(y2))) for x, y, x2, y2 in pins), reach=reach,
                     line=number)


def read_manifest(path: str | Path) -> list[BatchItem | BatchRestyle]:
    """Parse a JSON-lines manifest; relative paths are relative to the manifest's folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (Windows Notepad writes one) is no JSON
    except UnicodeDecodeError:
        raise SimNetError(f"cannot read manifest {path}: it is not UTF-8 text (save it as UTF-8)") from None
    except OSError as error:
        raise SimNetError(f"cannot read manifest {path}: {error.strerror or error}") from None
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError as error:
            raise SimNetError(f"{path}:{number}: not valid JSON ({error.msg})") from None
        if not isinstance(entry, dict):
            raise SimNetError(f"{path}:{number}: expected a JSON object")
        op = entry.get("op", "edit")
        if isinstance(op, str) and op in ACCEPTED_KEYS:
            _check_keys(entry, op, f"{path}:{number}")
        if op == "restyle":
            items.append(_restyle_item(entry, path.parent, f"{path}:{number}", number))
            continue
        if op == "remove":
            items.append(_remove_item(entry, path.parent, f"{path}:{number}", number))
            continue
        if op != "edit":
            raise SimNetError(f"{path}:{number}: unknown op {op!r}; use \"edit\", \"restyle\" or \"remove\"")
        items.append(_edit_item(entry, path.parent, f"{path}:{number}", number))
    if not items:
        raise SimNetError(f"{path} lists no edits")
    return items


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = add_command(
        subparsers, "batch",
        description="Each line: {\"image\", \"source_mask\", \"target_mask\", \"output\"} for a reshape (or "
                    "\"pins\": [[x, y, x2, y2], ...] in place of \"target_mask\": the region bent by pins), or "
                    "{\"op\": \"restyle\", \"image\", \"region\", \"exemplar\", \"exemplar_region\", \"output\"} "
                    "with optional \"strength\", \"second_exemplar\", \"second_exemplar_region\", \"mix\", \"reach\"; "
                    "or {\"op\": \"remove\", \"image\", \"region\", \"output\"}: the region removed, its place filled. "
                    "Any line may add \"reach\" (pixels) in place of --reach; other keys are refused.")
    parser.add_argument("manifest", help="the JSON-lines manifest")
    parser.add_argument("--stop-on-error", action="store_true", help="stop at the first failing edit")
    add_reach_option(parser)
    add_resampling_option(parser)
    add_model_options(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    reach = reach_from_args(args)
    items = read_manifest(args.manifest)
    items = [replace(item, reach=reach) if isinstance(item, BatchRestyle) and item.reach is None else item
             for item in items]
    reshapes = any(isinstance(item, BatchItem) and not item.remove for item in items)
    manipulator = manipulator_from_args(args) if reshapes else None  # restyles and removals need no SIM-Net
    started = time.perf_counter()
    written = 0

    def report(index: int, outcome: EditResult | RestyleOutcome | SimNetError) -> None:
        nonlocal written
        item = items[index]
        prefix = f"[{index + 1}/{len(items)}]"
        if isinstance(outcome, SimNetError):
            print(f"{prefix} line {item.line}: error: {outcome}", file=sys.stderr, flush=True)
            return
        written += 1
        timings = outcome.timings
        whole = timings["read"] + timings["total"] + timings["write"]
        print(f"{prefix} {item.image.name} -> {item.output} ({whole:.2f} s: read {timings['read']:.2f}, "
              f"edit {timings['total']:.2f}, write {timings['write']:.2f})", flush=True)
        for note in getattr(outcome, "notes", ()):
            print(f"{prefix} note: {note}", flush=True)

    failures = run_batch(manipulator, items, report, reach=reach, stop_on_error=args.stop_on_error,
                         resampling=args.resampling)
    print(f"{written} of {len(items)} edits written in {time.perf_counter() - started:.1f} s"
          + (f"; {failures} failed" if failures else ""))
    return 0 if failures == 0 else 2
