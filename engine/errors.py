"""Errors the user sees. Each message is one plain sentence: the CLI prints it, the editor shows it."""
from __future__ import annotations


class SimNetError(Exception):
    """Base of every error meant for the user (no traceback is shown for these)."""


class ImageReadError(SimNetError):
    """An image file could not be opened: missing, corrupt, unsupported or too large."""


class ImageWriteError(SimNetError):
    """An output file could not be written; any previous file at that path is left intact."""


class MaskError(SimNetError):
    """A mask is empty, of the wrong size, or otherwise unusable for the requested operation."""


class CheckpointError(SimNetError):
    """A model checkpoint is missing, truncated, of the wrong kind or from a newer format."""


class SegmentationError(SimNetError):
    """A segmentation request could not be answered (bad prompt, empty result, bad SAM weights)."""


class EditError(SimNetError):
    """An edit could not be made (for example the network produced NaN); nothing was changed."""


class SessionError(SimNetError):
    """A session (project) file could not be read or written."""


def one_line(error: BaseException, limit: int | None = None) -> str:
    """An exception's text on one line (some, like load_state_dict's, span several), cut to ``limit``
    characters when given; the exception's type name when it has no text."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"
