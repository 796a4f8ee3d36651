"""The name and file type the Export dialog suggests; they always agree (no Qt here, so it is
tested without a display).

The suggestion is, in this order: the file this session was last exported to; the artwork's name
with ``_edited`` in its own format; and for an artwork without a usable format, the format the
user exported to last time (PNG at first).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.imageio import WRITE_FORMATS

#: Export file types as the dialog lists them: (format, label, suffixes), the first suffix the usual one.
FILE_TYPES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("PNG", "PNG", (".png",)),
    ("JPEG", "JPEG", (".jpg", ".jpeg")),
    ("TIFF", "TIFF", (".tif", ".tiff")),
    ("WEBP", "WebP", (".webp",)),
)
DEFAULT_FORMAT = "PNG"
#: Formats an artwork is read in, by the name they are written under (a JPEG camera MPO is a JPEG).
READ_AS_WRITE = {"MPO": "JPEG"}


def file_filter(fmt: str) -> str:
    """The dialog's filter line for a format, e.g. ``JPEG (*.jpg *.jpeg)``."""
    for name, label, suffixes in FILE_TYPES:
        if name == fmt:
            return f"{label} ({' '.join('*' + suffix for suffix in suffixes)})"
    raise ValueError(f"not an export format: {fmt}")


EXPORT_FILTER = ";;".join(file_filter(name) for name, _, _ in FILE_TYPES)


def format_of_suffix(path: str | Path) -> str | None:
    """The export format a file name asks for, or None."""
    return WRITE_FORMATS.get(Path(path).suffix.lower())


def format_of_filter(chosen_filter: str) -> str:
    """The format of a filter line the dialog returned (PNG when it is none of ours)."""
    for name, _, _ in FILE_TYPES:
        if chosen_filter == file_filter(name):
            return name
    return DEFAULT_FORMAT


def usual_suffix(fmt: str) -> str:
    return next(suffixes[0] for name, _, suffixes in FILE_TYPES if name == fmt)


@dataclass(frozen=True)
class ExportSuggestion:
    path: Path
    fmt: str

    @property
    def file_filter(self) -> str:
        return file_filter(self.fmt)


def suggest_export(artwork_path: Path | None, source_format: str, *, previous_export: Path | None = None,
                   last_format: str = "", folder: str | Path = "") -> ExportSuggestion:
    """The path and format the Export dialog starts with; ``path``'s suffix is always one of ``fmt``'s."""
    if previous_export is not None and format_of_suffix(previous_export):
        return ExportSuggestion(previous_export, format_of_suffix(previous_export))
    own = READ_AS_WRITE.get(source_format.upper(), source_format.upper())
    if own not in {name for name, _, _ in FILE_TYPES}:
        own = format_of_suffix(artwork_path) if artwork_path is not None else None
    fmt = own or (last_format if last_format in {name for name, _, _ in FILE_TYPES} else DEFAULT_FORMAT)
    if artwork_path is None:
        return ExportSuggestion(Path(folder or ".") / f"untitled_edited{usual_suffix(fmt)}", fmt)
    # Keep the artwork's own spelling of the suffix (.jpeg, .TIF) when it is of this format.
    suffix = artwork_path.suffix if format_of_suffix(artwork_path) == fmt else usual_suffix(fmt)
    return ExportSuggestion(artwork_path.with_name(f"{artwork_path.stem}_edited{suffix}"), fmt)


def export_path(chosen: str, chosen_filter: str) -> Path:
    """The dialog's answer as a path: a name without an image suffix gets the chosen file type's."""
    path = Path(chosen)
    if format_of_suffix(path) is None:
        path = path.with_name(path.name + usual_suffix(format_of_filter(chosen_filter)))
    return path
