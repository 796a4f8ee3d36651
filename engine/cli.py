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
COMMAND_MODULES = ("edit", "restyle", "batch", "segment", "segment_train", "train", "eval", "eval_fill",
                   "eval_restyle", "eval_segment", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simnet", description="SIM-Net Studio: reshape regions of artworks.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"engine.commands.{name}")
        except Exception as error:  # one broken command must not take the others down, nor vanish
            _register_unavailable(subparsers, name, error)
            continue
        module.register(subparsers)
    return parser


def _register_unavailable(subparsers: argparse._SubParsersAction, module_name: str, error: Exception) -> None:
    """A command whose module fails to import stays listed, and running it says why."""
    command = module_name.replace("_", "-")
    reason = f"{type(error).__name__}: {one_line(error)}"
    # No option prefix: whatever the user typed after the command is taken as is, and refused below.
    parser = subparsers.add_parser(command, help=f"(unavailable: {reason})", add_help=False, prefix_chars="\0")
    parser.add_argument("arguments", nargs="*")

    def refuse(args: argparse.Namespace) -> int:
        raise SimNetError(f"this command cannot run: its module engine.commands.{module_name} failed to load "
                          f"({reason}); reinstall SIM-Net Studio")

    parser.set_defaults(func=refuse)


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
