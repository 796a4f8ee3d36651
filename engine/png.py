"""A fast lossless PNG encoder: 8- and 16-bit grey, grey+alpha, RGB and RGBA, with ICC profile and EXIF.

Pillow's encoder (zlib level 6 with a per-row filter search) takes over 3 s for a 4096x2160
painting on one core. Here every row uses PNG's Average filter, computed with NumPy, and the
filtered rows are deflated in strips of a fixed size on all cores (the compressor releases the
interpreter lock), the way pigz splits a stream: each strip is an independent raw-deflate segment
ended by a sync flush, so their concatenation is one valid zlib stream. The deflate is Intel's
ISA-L (the ``isal`` package) at level 2: four times faster than zlib's fastest level on a painting,
for files 4 % larger (16.3 -> 17.0 MB at 4096x2160), still about as small as Pillow's level 6.
Without ``isal`` (a platform it has no build for) zlib level 1 does the same job, slower. The
strip layout does not depend on the number of cores, so the bytes written are the same on every
machine with the same compressor.
"""
from __future__ import annotations

import contextlib
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

try:
    from isal import isal_zlib as deflate

    COMPRESS_LEVEL = 2
except ImportError:  # pragma: no cover - isal is a dependency; this keeps a wheel-less platform writing PNGs
    deflate = zlib
    COMPRESS_LEVEL = 1

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Filtered bytes per independently compressed strip (whole rows; at least one row). 1 MiB: 26 strips at
#: 4096x2160, enough to share among the cores and to skip the rows an edit leaves (see StripsAhead), for
#: files 0.03 % larger than with 4 MiB strips.
STRIP_BYTES = 1 << 20
#: PNG colour type for 1 (grey), 2 (grey + alpha), 3 (RGB) and 4 (RGBA) channels.
COLOUR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}
AVERAGE_FILTER = 3
ADLER_BASE = 65521
#: A zlib stream header: deflate with a 32 KiB window, "fastest" level flag, check bits valid.
ZLIB_HEADER = b"\x78\x01"
MAX_WORKERS = 8


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of two byte strings joined, from the checksum of each (as zlib's adler32_combine)."""
    sum1 = ((first & 0xFFFF) + (second & 0xFFFF) - 1) % ADLER_BASE
    sum2 = ((first >> 16) + (second >> 16) + second_length * ((first & 0xFFFF) - 1)) % ADLER_BASE
    return sum1 | (sum2 << 16)


def _average_filtered(rows: np.ndarray, above: np.ndarray | None, bpp: int) -> np.ndarray:
    """PNG rows (R, N) of bytes with the Average filter: each row prefixed by its filter type byte.

    ``above`` is the row before the first one (None for the image's first row); ``bpp`` is the
    number of bytes per pixel, the distance to the "left" byte."""
    previous = np.empty_like(rows)
    previous[0] = 0 if above is None else above
    previous[1:] = rows[:-1]
    out = np.empty((rows.shape[0], rows.shape[1] + 1), np.uint8)
    out[:, 0] = AVERAGE_FILTER
    np.subtract(rows[:, :bpp], previous[:, :bpp] >> 1, out=out[:, 1:bpp + 1])
    left, up = rows[:, :-bpp], previous[:, bpp:]
    # floor((left + up) / 2) without leaving uint8
    mean = np.bitwise_and(left, up)
    mean += np.bitwise_xor(left, up) >> 1
    np.subtract(rows[:, bpp:], mean, out=out[:, bpp + 1:])
    return out


def _row_bytes(pixels: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) as PNG stores them: (R, W*C*bytes) uint8, 16-bit samples big-endian."""
    rows = pixels[start:stop]
    if rows.dtype == np.uint16:
        rows = rows.astype(">u2")
    return np.ascontiguousarray(rows).view(np.uint8).reshape(stop - start, -1)


def _compress_strip(pixels: np.ndarray, start: int, stop: int, bpp: int, last: bool) -> tuple[bytes, int, int]:
    """One strip as a raw-deflate segment, with the Adler-32 and length of its filtered bytes."""
    above = _row_bytes(pixels, start - 1, start)[0] if start > 0 else None
    filtered = _average_filtered(_row_bytes(pixels, start, stop), above, bpp)
    compressor = deflate.compressobj(COMPRESS_LEVEL, deflate.DEFLATED, -15, 9)
    data = compressor.compress(filtered) + compressor.flush(deflate.Z_FINISH if last else deflate.Z_SYNC_FLUSH)
    return data, zlib.adler32(filtered), filtered.size


def strip_layout(height: int, width: int, bpp: int) -> list[tuple[int, int]]:
    """The rows [start, stop) of each independently compressed strip (it depends on the size only)."""
    rows_per_strip = max(1, STRIP_BYTES // (width * bpp + 1))
    return [(start, min(height, start + rows_per_strip)) for start in range(0, height, rows_per_strip)]


def _bytes_per_pixel(pixels: np.ndarray) -> int:
    return pixels.shape[2] * (2 if pixels.dtype == np.uint16 else 1)


@dataclass(frozen=True)
class StripsAhead:
    """Strips of one image's PNG stream compressed before it is encoded (e.g. while an edit that
    changes other rows is still running): :func:`encode_png` takes each one whose pixel rows, and
    the row above them (the filter reads it), are the same in the image it encodes."""

    pixels: np.ndarray  # the image they were compressed from (only read)
    strips: dict[tuple[int, int], tuple[bytes, int, int]]  # (start, stop) -> data, Adler-32, length

    def reusable(self, pixels: np.ndarray, start: int, stop: int) -> tuple[bytes, int, int] | None:
        strip = self.strips.get((start, stop))
        if strip is None or pixels.shape != self.pixels.shape or pixels.dtype != self.pixels.dtype:
            return None
        above = max(0, start - 1)
        return strip if np.array_equal(pixels[above:stop], self.pixels[above:stop]) else None


def compress_strips_ahead(pixels: np.ndarray, changing: tuple[int, int]) -> StripsAhead:
    """Compress now, in the calling thread, the strips of ``pixels`` (H, W, C) that do not depend on
    rows ``changing`` = [first, stop): those an edit of those rows leaves as they are."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    height, bpp = pixels.shape[0], _bytes_per_pixel(pixels)
    first, stop_changing = changing
    strips = {}
    for start, stop in strip_layout(height, pixels.shape[1], bpp):
        if stop <= first or start - 1 >= stop_changing:  # rows start-1 .. stop-1 all unchanged
            strips[(start, stop)] = _compress_strip(pixels, start, stop, bpp, stop == height)
    return StripsAhead(pixels, strips)


def worker_count() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


def encode_png(pixels: np.ndarray, *, icc_profile: bytes | None = None, exif: bytes | None = None,
               progress: Callable[[float], None] | None = None, ahead: StripsAhead | None = None) -> bytes:
    """Encode (H, W, C) uint8/uint16 pixels, C in 1..4, as PNG; the ICC profile and EXIF are stored
    in iCCP and eXIf chunks (the way Pillow stores them). ``progress`` is called in the calling
    thread with the fraction of rows compressed so far, after each strip. Strips compressed
    ``ahead`` are taken where their rows are unchanged (the same bytes as compressing them here)."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    height, width, channels = pixels.shape
    if pixels.dtype not in (np.uint8, np.uint16) or channels not in COLOUR_TYPES or not height or not width:
        raise ValueError(f"cannot write {pixels.dtype} pixels of shape {pixels.shape} as PNG")
    depth = 16 if pixels.dtype == np.uint16 else 8
    bpp = _bytes_per_pixel(pixels)
    header = struct.pack(">IIBBBBB", width, height, depth, COLOUR_TYPES[channels], 0, 0, 0)
    parts = [SIGNATURE, _chunk(b"IHDR", header)]
    if icc_profile:
        parts.append(_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc_profile)))
    if exif:
        parts.append(_chunk(b"eXIf", exif[6:] if exif.startswith(b"Exif\0\0") else exif))

    jobs = strip_layout(height, width, bpp)

    def strip(job: tuple[int, int]) -> tuple[bytes, int, int]:
        done = None if ahead is None else ahead.reusable(pixels, *job)
        return done if done is not None else _compress_strip(pixels, job[0], job[1], bpp, job[1] == height)

    workers = min(len(jobs), worker_count())
    strips = []
    with ThreadPoolExecutor(workers, thread_name_prefix="png") if workers > 1 else contextlib.nullcontext() as pool:
        for compressed in (pool.map(strip, jobs) if pool is not None else map(strip, jobs)):
            strips.append(compressed)
            if progress is not None:
                progress(jobs[len(strips) - 1][1] / height)
    checksum = 1
    for _, strip_checksum, length in strips:
        checksum = adler32_combine(checksum, strip_checksum, length)
    segments = [data for data, _, _ in strips]
    segments[0] = ZLIB_HEADER + segments[0]
    segments[-1] = segments[-1] + struct.pack(">I", checksum)
    parts.extend(_chunk(b"IDAT", segment) for segment in segments)
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)
