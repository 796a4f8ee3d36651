"""The ``simnet`` command line: one sub-command per module in :mod:`engine.commands`.

Errors meant for the user (:class:`engine.errors.SimNetError`) are printed as one line on stderr
with exit status 2; no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from engine.errors import SimNetError, one_line

#: Sub-command modules; each defines ``register(subparsers)`` which sets ``func`` on its parser.
COMMAND_MODULES = ("edit", "restyle", "batch", "segment", "segment_train", "train", "eval", "eval_restyle", "eval_segment", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simnet", description="SIM-Net Studio: reshape regions of artworks.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"engine.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"engine.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except SimNetError as error:
        print(f"simnet {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"simnet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
