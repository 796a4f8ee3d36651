"""What the program says about itself: one description and the installed version, for the CLI, the editor's
command line and its About box."""
from __future__ import annotations

from importlib import metadata

DESCRIPTION = "SIM-Net Studio: reshape and restyle regions of artworks."
DISTRIBUTION = "simnet-studio"


def version() -> str:
    """The installed package's version (pyproject.toml), or a note that the code runs from an uninstalled tree."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"
