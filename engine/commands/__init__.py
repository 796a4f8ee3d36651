"""The ``simnet`` sub-commands, one module each, and the one-line summary of each.

The summaries live here, not in the modules, so that ``simnet`` can list every command and build
the parser of the one it runs without importing the others (some load torch, which takes
seconds; ``simnet restyle`` never needs it).
"""
from __future__ import annotations

import argparse

#: Module name -> the line ``simnet --help`` shows for its command (the command is the name with
#: "-" for "_"), in the order listed.
SUMMARIES: dict[str, str] = {
    "edit": "reshape a region of an artwork",
    "restyle": "paint a region in the style of an exemplar region",
    "batch": "run many edits listed in a JSON-lines manifest",
    "segment": "make a region mask from clicks or a box",
    "segment_train": "train the built-in promptable segmenter on BSDS500",
    "train": "train the SIM-Net model on BSDS500 photographs",
    "eval": "score the model and baselines on held-out painting edits",
    "eval_fill": "score the fill of a moved object's old place against PatchMatch and Telea",
    "eval_restyle": "score restyles and anchors on held-out paintings",
    "eval_segment": "measure click-to-mask quality on BSDS500",
    "bench": "measure edit speed and memory at several sizes",
}


def command_name(module_name: str) -> str:
    return module_name.replace("_", "-")


def add_command(subparsers: argparse._SubParsersAction, module_name: str, **options) -> argparse.ArgumentParser:
    """The parser of one command, with its summary from :data:`SUMMARIES`."""
    return subparsers.add_parser(command_name(module_name), help=SUMMARIES[module_name], **options)
