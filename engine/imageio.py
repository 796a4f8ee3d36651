"""Reading and writing artworks and masks: PNG, JPEG, TIFF and WebP; grey, RGB, RGBA; 8 and 16 bit.

Images come back as (H, W, C) uint8/uint16 arrays with C in {1, 3, 4}, upright (EXIF orientation
applied), with their colour profile and EXIF kept for export. Every failure is an
:class:`ImageReadError`/:class:`ImageWriteError` naming the file; writes are atomic.
"""
from __future__ import annotations

import contextlib
import io
import os
import stat
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.atomic import atomic_write_bytes
from engine.errors import ImageReadError, ImageWriteError, MaskError
from engine.png import StripsAhead, encode_png
from engine.tiff import encode_tiff16

#: Largest image read by default (pixels); an 8K UHD frame is 33 MP. Raise with SIMNET_MAX_PIXELS.
DEFAULT_MAX_PIXELS = 120_000_000
READ_FORMATS = {"PNG", "JPEG", "MPO", "TIFF", "WEBP"}
WRITE_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}
EXIF_ORIENTATION = 0x0112
# TIFF tags that describe how the source file stored its pixels (size, sample format and depth, strips and
# tiles, compression, palette), or hold a stale copy of them (Photoshop's layers, 37724, and image resources
# with their thumbnail, 34377). Pillow lists a TIFF's whole first directory as its EXIF; carried over on
# export they would override the tags of the pixels written: a float TIFF's sample format made its 16-bit
# export an unreadable "16-bit float" file, an int32 TIFF's made it signed.
TIFF_LAYOUT_TAGS = frozenset({
    254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 277, 278, 279, 280, 281, 284, 290, 291, 292, 293,
    301, 317, 318, 319, 320, 321, 322, 323, 324, 325, 330, 332, 333, 334, 336, 338, 339, 340, 341, 342, 347, 512,
    513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531, 532, 34377, 37724})

Image.MAX_IMAGE_PIXELS = None  # we apply our own, user-adjustable limit before decoding


@dataclass
class Artwork:
    """A decoded image and what export must carry over."""

    pixels: np.ndarray
    icc_profile: bytes | None = None
    exif: bytes | None = None
    source_format: str = ""
    path: Path | None = None

    @property
    def bit_depth(self) -> int:
        return 16 if self.pixels.dtype == np.uint16 else 8

    @property
    def size(self) -> tuple[int, int]:
        return self.pixels.shape[1], self.pixels.shape[0]


def max_pixels_from_environment() -> int:
    """SIMNET_MAX_PIXELS as a whole number of pixels (``200000000``, ``200_000_000`` or ``2e8``)."""
    value = os.environ.get("SIMNET_MAX_PIXELS", "").strip().replace("_", "")
    try:
        pixels = int(float(value))
    except (ValueError, OverflowError):
        return DEFAULT_MAX_PIXELS
    return pixels if pixels > 0 else DEFAULT_MAX_PIXELS


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:.0f}" if pixels >= 10_000_000 else f"{pixels / 1e6:.3g}"


#: Leading bytes of the formats we read, to tell a damaged file of a known kind from a non-image.
SIGNATURES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
              b"II+\x00": "TIFF", b"MM\x00+": "TIFF"}


def _sniff(head: bytes) -> str | None:
    """The supported format ``head`` (the file's first bytes) claims to be, if any."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return next((fmt for magic, fmt in SIGNATURES.items() if head.startswith(magic)), None)


def _unidentified(path: Path, head: bytes) -> ImageReadError:
    claimed = _sniff(head)
    if claimed:
        return ImageReadError(f"{path} is damaged or truncated (it starts like a {claimed} file but cannot be read)")
    return ImageReadError(f"{path} is not an image, or its format is not supported; use PNG, JPEG, TIFF or WebP")


def _check_header(image: Image.Image, path: Path, limit: int) -> None:
    """Refuse unsupported formats and images above the pixel limit before any pixel is decoded."""
    if image.format not in READ_FORMATS:
        raise ImageReadError(f"{path}: {image.format} images are not supported; use PNG, JPEG, TIFF or WebP")
    width, height = image.size
    if width * height > limit:
        raise ImageReadError(f"{path} is {width}x{height} ({_megapixels(width * height)} megapixels), above the limit "
                             f"of {_megapixels(limit)} megapixels; raise it with SIMNET_MAX_PIXELS if you trust the file")


@contextlib.contextmanager
def _read_errors(path: Path, head: bytes) -> Iterator[None]:
    """Turn every way a decoder can fail into one :class:`ImageReadError` naming the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise _unidentified(path, head) from None
    except (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, KeyError, TypeError,
            ZeroDivisionError, cv2.error) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ImageReadError(f"{path} is damaged or truncated ({reason[:120]})") from None
    except MemoryError:
        raise ImageReadError(f"{path}: not enough memory to open this image") from None


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1..8) to an (H, W, C) array."""
    operations = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
                  5: lambda a: np.swapaxes(a, 0, 1), 6: lambda a: np.rot90(a, -1),
                  7: lambda a: np.rot90(a, 1)[::-1], 8: lambda a: np.rot90(a, 1)}
    operation = operations.get(orientation)
    return np.ascontiguousarray(operation(pixels)) if operation else pixels


def _pil_to_array(image: Image.Image) -> np.ndarray:
    """Any Pillow mode -> (H, W, C) uint8/uint16 with C in {1, 3, 4}."""
    mode = image.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(image, dtype=np.uint16)[..., None].copy()
    if mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode == "F" and values.max(initial=0) <= 1.0:
            values = values * 65535.0
        return np.clip(np.rint(values), 0, 65535).astype(np.uint16)[..., None]
    if mode == "1":
        image = image.convert("L")
    elif mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif mode in ("LA", "La", "PA"):
        image = image.convert("RGBA")
    elif mode in ("CMYK", "YCbCr", "LAB", "HSV", "RGBX"):
        image = image.convert("RGB")
    elif mode in ("RGBa",):
        image = image.convert("RGBA")
    array = np.asarray(image)
    if array.ndim == 2:
        array = array[..., None]
    return array.copy()


def _sixteen_bit_colour(data: bytes) -> np.ndarray | None:
    """OpenCV decode for 16-bit colour PNG/TIFF, which Pillow reduces to 8 bit; None otherwise."""
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.dtype != np.uint16 or decoded.ndim != 3:
        return None
    code = cv2.COLOR_BGRA2RGBA if decoded.shape[2] == 4 else cv2.COLOR_BGR2RGB
    return cv2.cvtColor(decoded, code)


def _eight_bit_png(image: Image.Image, data: bytes) -> np.ndarray | None:
    """The pixels of an 8-bit grey, RGB or RGBA PNG decoded by OpenCV (libpng): about a quarter less
    time than Pillow's own PNG decoder, the same values. None (Pillow decodes it) for any other PNG: other
    depths and colour types, a transparent key colour, chunks after the pixels other than the end (Pillow
    reads those only while decoding), or a file libpng refuses."""
    if image.format != "PNG" or _png_bit_depth(data) != 8 or image.mode not in ("L", "RGB", "RGBA"):
        return None
    if "transparency" in image.info or not _metadata_in_header(image, data):
        return None
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None or decoded.dtype != np.uint8 or decoded.shape[:2] != (image.height, image.width):
        return None
    channels = 1 if decoded.ndim == 2 else decoded.shape[2]
    if channels != len(image.mode):
        return None
    if channels == 1:
        return decoded.reshape(image.height, image.width, 1)
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB if channels == 3 else cv2.COLOR_BGRA2RGBA)


def _metadata_in_header(image: Image.Image, data: bytes) -> bool:
    """Whether Pillow has read all the file's metadata (profile, EXIF) with its header, so that OpenCV
    may decode the pixels alone: a PNG whose metadata lies before its pixels, or an upright TIFF (its
    tags; OpenCV's reader turns a TIFF by its orientation tag itself, and Pillow's decode drops the
    tag: such a file is read as before, by both)."""
    if image.format == "PNG":
        return _metadata_before_pixels(data)
    return image.format == "TIFF" and getattr(image, "tag_v2", {}).get(EXIF_ORIENTATION, 1) == 1


def _metadata_before_pixels(data: bytes) -> bool:
    """Whether a PNG's chunks after its first IDAT are only more IDAT and IEND (read from the chunk
    headers; a damaged chain of chunks is False)."""
    position, seen_pixels = 8, False
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IEND":
            return seen_pixels
        if kind == b"IDAT":
            seen_pixels = True
        elif seen_pixels:
            return False
        position += 12 + length
    return False


def _png_bit_depth(data: bytes) -> int:
    """The bit depth a PNG's header declares (IHDR is the first chunk; its depth byte is the file's 25th);
    0 when the file is shorter."""
    return data[24] if len(data) > 24 else 0


def _sixteen_bit_header(image: Image.Image, data: bytes) -> bool:
    """Whether a PNG or TIFF header declares 16-bit samples (then OpenCV decodes the colour, since
    Pillow reduces it to 8 bit; Pillow decodes it too only for a PNG with metadata after its pixels. An
    8-bit file is decoded once, by OpenCV for the PNGs that :func:`_eight_bit_png` takes, else by Pillow)."""
    if image.format == "PNG":
        return _png_bit_depth(data) == 16
    if image.format == "TIFF":
        bits = getattr(image, "tag_v2", {}).get(258, ())
        return 16 in (bits if isinstance(bits, tuple) else (bits,))
    return False


def _orientation(exif: Image.Exif | None) -> int:
    """The EXIF orientation (1..8) in ``exif`` (:func:`_exif`); 1 when absent or malformed."""
    if exif is None:
        return 1
    try:
        value = int(exif.get(EXIF_ORIENTATION, 1) or 1)
    except (TypeError, ValueError, OSError, SyntaxError, struct.error):
        return 1
    return value if 1 <= value <= 8 else 1


def _exif(image: Image.Image, header_only: bool) -> Image.Exif | None:
    """The image's EXIF (None when unreadable). ``header_only``: the pixels were decoded without Pillow
    and every chunk of metadata lies before them (:func:`_eight_bit_png`), so Pillow has read it all
    with the header; its PNG reader would otherwise decode the pixels once more to look for an EXIF
    chunk after them."""
    if header_only and "exif" not in image.info and "Raw profile type exif" not in image.info:
        return Image.Exif()
    try:
        return image.getexif()
    except (TypeError, ValueError, OSError, SyntaxError, struct.error):
        return None


def _export_metadata(image: Image.Image, exif: Image.Exif | None) -> tuple[bytes | None, bytes | None]:
    """(ICC profile, EXIF (``exif``, from :func:`_exif`)) to carry over on export; EXIF orientation reset
    since pixels are upright.

    A CMYK profile does not describe the RGB pixels we return, and unreadable EXIF is dropped. From a TIFF
    only the descriptive tags are kept (:data:`TIFF_LAYOUT_TAGS`)."""
    icc = image.info.get("icc_profile") if image.mode != "CMYK" else None
    if exif is None:
        return icc or None, None
    try:
        if image.format == "TIFF":
            for tag in TIFF_LAYOUT_TAGS & set(exif):
                del exif[tag]
        if EXIF_ORIENTATION in exif:
            exif[EXIF_ORIENTATION] = 1
        exif_bytes = exif.tobytes() if len(exif) else None
    except (TypeError, ValueError, OSError, SyntaxError, struct.error):
        exif_bytes = None
    return icc or None, exif_bytes


def _check_file(path: Path) -> None:
    """Only regular, non-empty files are read (a FIFO or device would block or never end)."""
    try:
        status = path.stat()
    except FileNotFoundError:
        raise ImageReadError(f"{path}: no such file") from None
    except OSError as error:
        raise ImageReadError(f"{path}: cannot read it ({error.strerror or error})") from None
    if stat.S_ISDIR(status.st_mode):
        raise ImageReadError(f"{path} is a folder, not an image")
    if not stat.S_ISREG(status.st_mode):
        raise ImageReadError(f"{path} is not a regular file")
    if status.st_size == 0:
        raise ImageReadError(f"{path} is empty (0 bytes)")


def load_image(path: str | Path, max_pixels: int | None = None) -> Artwork:
    """Decode an artwork. Refuses images above ``max_pixels`` (default: SIMNET_MAX_PIXELS or 120 MP)
    from the header alone, before reading the rest of the file."""
    limit = max_pixels or max_pixels_from_environment()
    return decode_image(read_image_file(path, limit), path, limit)


def read_image_file(path: str | Path, max_pixels: int | None = None) -> bytes:
    """The bytes of an image file, once its header says it is an image we read within ``max_pixels``
    (:func:`load_image` without the decode: every error but damaged pixel data comes from here)."""
    path = Path(path)
    limit = max_pixels or max_pixels_from_environment()
    _check_file(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(16)
            handle.seek(0)
            with _read_errors(path, head), Image.open(handle) as image:
                _check_header(image, path, limit)
            handle.seek(0)
            data = handle.read()
    except PermissionError:
        raise ImageReadError(f"{path}: no permission to read it") from None
    except OSError as error:
        raise ImageReadError(f"{path}: cannot read it ({error.strerror or error})") from None
    return data


def decode_image(data: bytes, path: str | Path = "image", max_pixels: int | None = None) -> Artwork:
    """Decode an encoded image held in memory; ``path`` names it in messages."""
    path = Path(path)
    limit = max_pixels or max_pixels_from_environment()
    if not data:
        raise ImageReadError(f"{path} is empty (0 bytes)")
    with _read_errors(path, data[:16]):
        image = Image.open(io.BytesIO(data))
        _check_header(image, path, limit)
        pixels = _eight_bit_png(image, data)
        # Pillow reduces 16-bit colour to 8 bits: OpenCV decodes it, alone where Pillow's header holds
        # all the metadata, else after Pillow has read the metadata that follows the pixels.
        sixteen_bit_colour = image.mode in ("RGB", "RGBA") and _sixteen_bit_header(image, data)
        opencv_first = sixteen_bit_colour and _metadata_in_header(image, data)
        if pixels is None and opencv_first:
            pixels = _sixteen_bit_colour(data)
        if pixels is None:
            image.load()
        exif = _exif(image, pixels is not None and image.format == "PNG")
        orientation = _orientation(exif)
        if pixels is None and sixteen_bit_colour and not opencv_first:
            pixels = _sixteen_bit_colour(data)
        if pixels is None:
            pixels = _pil_to_array(ImageOps.exif_transpose(image) if orientation != 1 else image)
        else:
            pixels = _orient(pixels, orientation)
    icc, exif = _export_metadata(image, exif)
    return Artwork(pixels=pixels, icc_profile=icc, exif=exif, source_format=image.format or "", path=path)


def output_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in WRITE_FORMATS:
        raise ImageWriteError(f"{path}: cannot write '{suffix or 'no extension'}' files; use .png, .jpg, .tif or .webp")
    return WRITE_FORMATS[suffix]


def _to_eight_bit(pixels: np.ndarray) -> np.ndarray:
    if pixels.dtype == np.uint16:
        return ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)
    return pixels


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """Artwork pixels as (H, W, 3) uint8 for figures and previews: 16-bit scaled to 8, grey
    repeated, alpha dropped (a new array)."""
    pixels = _to_eight_bit(pixels)
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    return np.repeat(pixels, 3, axis=2) if pixels.shape[2] == 1 else np.ascontiguousarray(pixels[..., :3]).copy()


def to_float_rgb(pixels: np.ndarray) -> np.ndarray:
    """Artwork pixels as (H, W, 3) float32 RGB in [0, 1] (8 or 16 bits; grey repeated, alpha dropped)."""
    scale = 65535.0 if pixels.dtype == np.uint16 else 255.0
    values = pixels.astype(np.float32) / scale
    if values.ndim == 2:
        values = values[..., None]
    return np.ascontiguousarray(values[..., :3] if values.shape[2] >= 3 else np.repeat(values[..., :1], 3, axis=2))


def encode_image(pixels: np.ndarray, fmt: str, *, icc_profile: bytes | None = None, exif: bytes | None = None,
                 quality: int = 95, progress: Callable[[float], None] | None = None,
                 ahead: StripsAhead | None = None) -> bytes:
    """Encode (H, W, C) pixels. 16 bit is kept for PNG and TIFF; JPEG has no alpha (flattened on white).

    PNG goes through the fast encoder of :mod:`engine.png` (any bit depth, profile and EXIF kept),
    which takes the strips compressed ``ahead`` where their rows are unchanged; 16-bit colour TIFF through
    :mod:`engine.tiff`; the rest through Pillow.
    ``progress`` gets the fraction encoded so far (for PNG after each strip, otherwise 1.0 at the end)."""
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if fmt == "PNG":
        return encode_png(pixels, icc_profile=icc_profile, exif=exif, progress=progress, ahead=ahead)
    if fmt == "TIFF" and pixels.dtype == np.uint16 and pixels.shape[2] in (3, 4):  # no Pillow mode for it
        data = encode_tiff16(pixels, icc_profile=icc_profile, exif=exif)
    else:
        data = _encode_with_pillow(pixels, fmt, icc_profile, exif, quality)
    if progress is not None:
        progress(1.0)
    return data


def _encode_with_pillow(pixels: np.ndarray, fmt: str, icc_profile: bytes | None, exif: bytes | None,
                        quality: int) -> bytes:
    channels = pixels.shape[2]
    if fmt == "TIFF" and pixels.dtype == np.uint16:
        image = Image.fromarray(np.ascontiguousarray(pixels[..., 0].astype("<u2")))
    else:
        eight = _to_eight_bit(pixels)
        if fmt == "JPEG" and channels == 4:
            alpha = eight[..., 3:4].astype(np.float32) / 255.0
            eight = np.rint(eight[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
        image = Image.fromarray(eight[..., 0] if eight.shape[2] == 1 else eight)
    options: dict = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if exif:
        options["exif"] = exif
    if fmt in ("JPEG", "WEBP"):
        options["quality"] = quality
    if fmt == "TIFF":
        options["compression"] = "tiff_lzw"
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def save_image(path: str | Path, pixels: np.ndarray, *, icc_profile: bytes | None = None,
               exif: bytes | None = None, quality: int = 95, progress: Callable[[float], None] | None = None,
               ahead: StripsAhead | None = None) -> None:
    """Write atomically, the format chosen by the extension; a previous file survives any failure.

    ``progress`` (optional) is called with the fraction encoded so far, in the calling thread;
    ``ahead``: PNG strips already compressed (:func:`engine.png.compress_strips_ahead`)."""
    fmt = output_format(path)
    try:
        data = encode_image(pixels, fmt, icc_profile=icc_profile, exif=exif, quality=quality, progress=progress,
                            ahead=ahead)
    except (OSError, ValueError, TypeError) as error:
        raise ImageWriteError(f"{path}: could not encode the image ({error})") from None
    atomic_write_bytes(path, data)


def mask_from_pixels(pixels: np.ndarray) -> np.ndarray:
    """White (or opaque, for a mask drawn on transparency) means region; thresholded at half range. A label
    mask of black and one dark value (0 and 1 as NumPy or OpenCV often write one, or a palette PNG with
    black and one dark colour, as segmentation datasets do) has that value as the region: it would otherwise
    read as empty, and no drawn mask is that dark on purpose."""
    top = 65535 if pixels.dtype == np.uint16 else 255
    if pixels.shape[2] == 4 and pixels[..., 3].min() < top:
        values = pixels[..., 3]
    elif pixels.shape[2] >= 3:
        values = pixels[..., :3].astype(np.float32).mean(axis=2)
    else:
        values = pixels[..., 0]
    half = (top + 1) / 2
    darkest_region = values.max()
    if 0 < darkest_region < half and np.all((values == 0) | (values == darkest_region)):
        return values == darkest_region
    return values >= half


def load_mask(path: str | Path, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A boolean mask from an image file; ``shape`` (H, W) is checked when given."""
    try:
        pixels = load_image(path).pixels
    except ImageReadError as error:
        raise MaskError(f"mask {error}") from None
    mask = mask_from_pixels(pixels)
    if shape is not None:
        check_mask_size(mask, shape, path)
    return mask


def check_mask_size(mask: np.ndarray, shape: tuple[int, int], path: str | Path) -> None:
    """A :class:`MaskError` naming the mask file when ``mask`` is not ``shape`` (H, W), the image's size."""
    if mask.shape[:2] != tuple(shape):
        raise MaskError(f"mask {path} is {mask.shape[1]}x{mask.shape[0]} but the image is {shape[1]}x{shape[0]}")


def save_mask(path: str | Path, mask: np.ndarray) -> None:
    """An 8-bit black/white PNG (or other format by extension), written atomically."""
    save_image(path, (np.asarray(mask, bool).astype(np.uint8) * 255)[..., None])
