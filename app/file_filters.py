"""The file dialogs' filters: every dialog that opens an artwork, an exemplar or a mask offers the formats the
engine reads (a BMP offered by one of them was then refused), with "All files" beside them."""
from __future__ import annotations

from engine.imageio import WRITE_FORMATS

IMAGE_FILTER = f"Images ({' '.join('*' + suffix for suffix in WRITE_FORMATS)});;All files (*)"
