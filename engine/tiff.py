"""A TIFF encoder for 16-bit colour (RGB and RGBA) that keeps the ICC profile and the EXIF tags.

Pillow has no 16-bit colour mode, and OpenCV's TIFF encoder writes no metadata: a 16-bit ProPhoto or
Adobe RGB scan exported through it lost its profile, so colour-managed programs showed it in their
working space (dull or oversaturated). Here the file is a baseline TIFF written with Pillow's tag
writer (:class:`PIL.Image.Exif` gives the header and the first directory, with the EXIF sub-directories
it holds): Adobe Deflate strips with the horizontal predictor, which Photoshop, GIMP, libtiff, Pillow and
OpenCV read. The strips are compressed on all cores, as :mod:`engine.png` does.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

from engine.png import COMPRESS_LEVEL, deflate, worker_count

#: Uncompressed bytes per strip (whole rows; at least one).
STRIP_BYTES = 1 << 20
TAG_WIDTH, TAG_HEIGHT, TAG_BITS, TAG_COMPRESSION, TAG_PHOTOMETRIC = 256, 257, 258, 259, 262
TAG_STRIP_OFFSETS, TAG_SAMPLES, TAG_ROWS_PER_STRIP, TAG_STRIP_BYTES, TAG_PLANAR = 273, 277, 278, 279, 284
TAG_PREDICTOR, TAG_EXTRA_SAMPLES, TAG_SAMPLE_FORMAT, TAG_ICC = 317, 338, 339, 34675
EXIF_PREFIX = b"Exif\x00\x00"
ADOBE_DEFLATE, HORIZONTAL_PREDICTOR, RGB, UNASSOCIATED_ALPHA, UNSIGNED = 8, 2, 2, 2, 1


def _predicted(rows: np.ndarray) -> np.ndarray:
    """TIFF's horizontal predictor: each sample minus the same channel's sample to its left (mod 2^16)."""
    differences = rows.copy()
    differences[:, 1:] -= rows[:, :-1]
    return differences


def _compressed_strips(pixels: np.ndarray, rows_per_strip: int) -> list[bytes]:
    starts = range(0, pixels.shape[0], rows_per_strip)

    def strip(start: int) -> bytes:
        rows = _predicted(pixels[start:start + rows_per_strip]).astype("<u2", copy=False)
        return deflate.compress(rows.tobytes(), COMPRESS_LEVEL)

    with ThreadPoolExecutor(max_workers=worker_count()) as pool:
        return list(pool.map(strip, starts))


def encode_tiff16(pixels: np.ndarray, *, icc_profile: bytes | None = None, exif: bytes | None = None) -> bytes:
    """(H, W, 3 or 4) uint16 RGB(A) -> TIFF bytes, with ``icc_profile`` and the tags of ``exif`` (EXIF bytes
    as Pillow writes them; their own layout tags, if any, are replaced by this file's)."""
    if pixels.dtype != np.uint16 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"encode_tiff16 takes (H, W, 3 or 4) uint16 pixels, not {pixels.dtype} {pixels.shape}")
    height, width, channels = pixels.shape
    rows_per_strip = max(1, STRIP_BYTES // (width * channels * 2))
    strips = _compressed_strips(pixels, rows_per_strip)
    tags = Image.Exif()
    if exif:
        tags.load(exif)
    tags.endian = "<"  # the strips are little-endian ("II"), whatever order the source's EXIF had
    tags[TAG_WIDTH], tags[TAG_HEIGHT] = width, height
    tags[TAG_BITS] = (16,) * channels
    tags[TAG_COMPRESSION], tags[TAG_PHOTOMETRIC], tags[TAG_PLANAR] = ADOBE_DEFLATE, RGB, 1
    tags[TAG_SAMPLES], tags[TAG_ROWS_PER_STRIP] = channels, rows_per_strip
    tags[TAG_PREDICTOR], tags[TAG_SAMPLE_FORMAT] = HORIZONTAL_PREDICTOR, (UNSIGNED,) * channels
    if channels == 4:
        tags[TAG_EXTRA_SAMPLES] = UNASSOCIATED_ALPHA
    if icc_profile:
        tags[TAG_ICC] = icc_profile
    tags[TAG_STRIP_BYTES] = tuple(len(strip) for strip in strips)
    # The strips follow the directory. Pillow's tag writer moves StripOffsets past the directory and the
    # values it places after it (it takes them as relative to that end); should a version take them as they
    # are, the absolute offsets are written instead (the directory's size does not change: LONGs either way).
    relative = tuple(int(offset) for offset in np.cumsum([0] + [len(strip) for strip in strips[:-1]]))
    tags[TAG_STRIP_OFFSETS] = relative
    header = tags.tobytes()[len(EXIF_PREFIX):]
    wanted = tuple(len(header) + offset for offset in relative)
    if _strip_offsets(header) != wanted:
        tags[TAG_STRIP_OFFSETS] = wanted
        header = tags.tobytes()[len(EXIF_PREFIX):]
        if _strip_offsets(header) != wanted:  # pragma: no cover - neither reading of the offsets held
            raise ValueError("could not place the TIFF strips")
    return header + b"".join(strips)


def _strip_offsets(header: bytes) -> tuple[int, ...]:
    written = Image.Exif()
    written.load(EXIF_PREFIX + header)
    offsets = written.get(TAG_STRIP_OFFSETS, ())
    return tuple(offsets) if isinstance(offsets, tuple) else (int(offsets),)
