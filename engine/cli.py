"""The ``simnet`` command line: one sub-command per module in :mod:`engine.commands`.

Only the module of the command being run is imported (``simnet restyle`` never loads torch);
``simnet --help`` imports them all, so that a command whose module fails to import is listed with
the reason. Errors meant for the user (:class:`engine.errors.SimNetError`) are printed as one
line on stderr with exit status 2; no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from engine.about import DESCRIPTION, version
from engine.commands import SUMMARIES, command_name
from engine.errors import SimNetError, one_line
from engine.memory import keep_freed_memory

#: Sub-command modules; each defines ``register(subparsers)`` which sets ``func`` on its parser.
COMMAND_MODULES = tuple(SUMMARIES)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command; only ``command``'s module is imported when it is given (the
    others are listed by their summaries), all of them when it is None."""
    parser = argparse.ArgumentParser(prog="simnet", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        if command is not None and command_name(name) != command:
            _register_listed(subparsers, name, SUMMARIES.get(name, ""))
            continue
        try:
            module = importlib.import_module(f"engine.commands.{name}")
        except Exception as error:  # one broken command must not take the others down, nor vanish
            _register_unavailable(subparsers, name, error)
            continue
        module.register(subparsers)
    return parser


def _register_listed(subparsers: argparse._SubParsersAction, module_name: str,
                     summary: str) -> argparse.ArgumentParser:
    """A command listed by its summary alone (its module is not imported)."""
    # No option prefix: whatever follows the command is taken as is.
    parser = subparsers.add_parser(command_name(module_name), help=summary, add_help=False, prefix_chars="\0")
    parser.add_argument("arguments", nargs="*")
    return parser


def _register_unavailable(subparsers: argparse._SubParsersAction, module_name: str, error: Exception) -> None:
    """A command whose module fails to import stays listed, and running it says why."""
    reason = f"{type(error).__name__}: {one_line(error)}"
    parser = _register_listed(subparsers, module_name, f"(unavailable: {reason})")

    def refuse(args: argparse.Namespace) -> int:
        raise SimNetError(f"this command cannot run: its module engine.commands.{module_name} failed to load "
                          f"({reason}); reinstall SIM-Net Studio")

    parser.set_defaults(func=refuse)


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, when its first word names one (the top level has no options but --help)."""
    known = {command_name(name) for name in COMMAND_MODULES}
    return argv[0] if argv and argv[0] in known else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_chosen_command(argv))
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except SimNetError as error:
        print(f"simnet {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2
    except MemoryError as error:  # a huge image or region on a small machine: one line, as for bad input
        print(f"simnet {args.command}: error: out of memory ({one_line(error, 120)}); files are "
              "written whole or not at all, so none is half-written; try a smaller image or region",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"simnet {args.command}: interrupted", file=sys.stderr)
        return 130


def console_main() -> int:
    """The ``simnet`` command: :func:`main` in a process whose allocator keeps freed memory for the next edit
    (:mod:`engine.memory`; set first, before any thread starts)."""
    keep_freed_memory()
    return main()


if __name__ == "__main__":
    sys.exit(console_main())
