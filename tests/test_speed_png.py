"""The fast PNG encoder (engine/png.py): every kind of pixel round-trips bit-exactly through Pillow and
OpenCV, the colour profile and EXIF are kept, the stream is valid however it is split into strips,
and the bytes do not depend on the number of cores."""
from __future__ import annotations

import io
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from engine import png
from engine.imageio import load_image, save_image
from engine.png import adler32_combine, encode_png

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "starry_night.jpg"


def texture(height: int, width: int, channels: int, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    """Smooth gradients plus noise, so that every filter residue and both bytes of 16 bit occur."""
    rng = np.random.default_rng(seed)
    top = int(np.iinfo(dtype).max)
    ys, xs = np.mgrid[0:height, 0:width]
    ramp = ((xs * 7 + ys * 3)[..., None] * (np.arange(channels) + 1) * (top // 400 + 1)) % (top + 1)
    noise = rng.integers(0, top // 8 + 1, (height, width, channels))
    return np.clip(ramp + noise, 0, top).astype(dtype)


def decoded_by_opencv(data: bytes) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels.ndim == 2:
        return pixels[..., None]
    return pixels[..., [2, 1, 0, 3]] if pixels.shape[2] == 4 else pixels[..., ::-1]


def decoded_by_pillow(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    image.verify()  # every chunk's CRC
    image = Image.open(io.BytesIO(data))
    pixels = np.asarray(image)
    return pixels[..., None] if pixels.ndim == 2 else pixels


def chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == png.SIGNATURE
    found, position = [], 8
    while position < len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        assert int.from_bytes(data[position + 8 + length:position + 12 + length], "big") == zlib.crc32(kind + body)
        found.append((kind, body))
        position += 12 + length
    return found


@pytest.mark.parametrize("height,width,channels,dtype", [
    (1, 1, 1, np.uint8), (1, 1, 4, np.uint16), (7, 5, 3, np.uint8), (33, 65, 4, np.uint8),
    (40, 31, 1, np.uint16), (21, 50, 3, np.uint16), (64, 48, 4, np.uint16),
])
def test_pixels_round_trip_exactly_through_opencv(height: int, width: int, channels: int, dtype) -> None:
    pixels = texture(height, width, channels, dtype, seed=height)
    assert np.array_equal(decoded_by_opencv(encode_png(pixels)), pixels)


@pytest.mark.parametrize("channels,mode", [(1, "L"), (2, "LA"), (3, "RGB"), (4, "RGBA")])
def test_eight_bit_round_trips_exactly_through_pillow(channels: int, mode: str) -> None:
    pixels = texture(37, 53, channels, seed=channels)
    image = Image.open(io.BytesIO(encode_png(pixels)))
    assert image.mode == mode
    assert np.array_equal(decoded_by_pillow(encode_png(pixels)), pixels)


def test_sixteen_bit_grey_round_trips_through_pillow() -> None:
    pixels = texture(29, 41, 1, np.uint16)
    assert np.array_equal(decoded_by_pillow(encode_png(pixels)).astype(np.uint16), pixels)


def test_many_strips_make_one_valid_stream(monkeypatch) -> None:
    pixels = texture(97, 61, 3, np.uint16, seed=3)
    whole = encode_png(pixels)
    monkeypatch.setattr(png, "STRIP_BYTES", 1000)  # a few rows per strip, and 97 rows is not a multiple
    split = encode_png(pixels)
    idat = [body for kind, body in chunks(split) if kind == b"IDAT"]
    assert len(idat) > 10
    assert np.array_equal(decoded_by_opencv(split), pixels)
    assert np.array_equal(decoded_by_pillow(split).shape, pixels.shape)
    assert zlib.decompress(b"".join(idat)) == zlib.decompress(b"".join(
        body for kind, body in chunks(whole) if kind == b"IDAT"))


def test_the_bytes_do_not_depend_on_the_number_of_cores(monkeypatch) -> None:
    pixels = texture(300, 200, 3, seed=5)
    monkeypatch.setattr(png, "STRIP_BYTES", 20_000)
    monkeypatch.setattr(png, "worker_count", lambda: 1)
    one = encode_png(pixels)
    monkeypatch.setattr(png, "worker_count", lambda: 4)
    assert encode_png(pixels) == one


def test_adler32_combine_matches_zlib() -> None:
    rng = np.random.default_rng(0)
    for first_length, second_length in [(0, 5), (1, 0), (1000, 77777), (65521 * 3 + 7, 65520)]:
        first, second = rng.bytes(first_length), rng.bytes(second_length)
        assert adler32_combine(zlib.adler32(first), zlib.adler32(second), second_length) == zlib.adler32(first + second)


def test_profile_and_exif_are_kept_as_pillow_keeps_them(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0112] = 1
    profile = bytes(range(256)) * 9
    pixels = texture(20, 30, 3)
    data = encode_png(pixels, icc_profile=profile, exif=exif.tobytes())
    kinds = [kind for kind, _ in chunks(data)]
    assert kinds[:3] == [b"IHDR", b"iCCP", b"eXIf"] and kinds[-1] == b"IEND" and set(kinds[3:-1]) == {b"IDAT"}
    reference = io.BytesIO()
    Image.fromarray(pixels).save(reference, "PNG", icc_profile=profile, exif=exif.tobytes())
    ours, pillows = Image.open(io.BytesIO(data)), Image.open(reference)
    assert ours.info["icc_profile"] == pillows.info["icc_profile"] == profile
    assert ours.getexif()[0x010F] == "Canon" and ours.info["exif"] == pillows.info["exif"]
    # and through the product's own reader and writer, 16 bit included
    deep = texture(20, 30, 4, np.uint16)
    save_image(tmp_path / "deep.png", deep, icc_profile=profile, exif=exif.tobytes())
    loaded = load_image(tmp_path / "deep.png")
    assert np.array_equal(loaded.pixels, deep) and loaded.icc_profile == profile
    stored = Image.Exif()
    stored.load(loaded.exif)
    assert stored[0x010F] == "Canon"


def test_a_painting_is_no_larger_than_with_pillows_default_level() -> None:
    pixels = load_image(SAMPLE).pixels
    reference = io.BytesIO()
    Image.fromarray(pixels).save(reference, "PNG")
    data = encode_png(pixels)
    assert np.array_equal(decoded_by_pillow(data), pixels)
    assert len(data) <= len(reference.getvalue()) * 1.02


def test_without_isal_zlib_writes_the_same_pixels(monkeypatch) -> None:
    """The fallback compressor of a platform without an ``isal`` build gives a valid PNG too."""
    monkeypatch.setattr(png, "STRIP_BYTES", 3000)
    pixels = texture(100, 64, 3)
    fast = encode_png(pixels)
    monkeypatch.setattr(png, "deflate", zlib)
    monkeypatch.setattr(png, "COMPRESS_LEVEL", 1)
    slow = encode_png(pixels)
    assert slow != fast
    assert np.array_equal(decoded_by_pillow(slow), pixels) and np.array_equal(decoded_by_pillow(fast), pixels)


@pytest.mark.parametrize("pixels", [np.zeros((4, 4, 3), np.float32), np.zeros((0, 4, 3), np.uint8),
                                    np.zeros((4, 4, 5), np.uint8)])
def test_pixels_png_cannot_hold_are_refused(pixels: np.ndarray) -> None:
    with pytest.raises(ValueError):
        encode_png(pixels)


def test_progress_rises_to_one_strip_by_strip(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(png, "STRIP_BYTES", 3000)
    pixels = texture(100, 64, 3)
    fractions: list[float] = []
    save_image(tmp_path / "art.png", pixels, progress=fractions.append)
    assert len(fractions) == 7 and fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] > 0
    assert np.array_equal(load_image(tmp_path / "art.png").pixels, pixels)
    other: list[float] = []
    save_image(tmp_path / "art.jpg", pixels, progress=other.append)
    assert other == [1.0]


@pytest.mark.parametrize("channels,dtype", [(3, np.uint8), (1, np.uint16), (4, np.uint8)])
def test_strips_compressed_ahead_give_the_same_bytes(monkeypatch, channels: int, dtype) -> None:
    """``simnet batch`` compresses the rows an edit leaves while it runs: the file is the same, byte for
    byte, and a strip whose rows did change after all (a wrong promise) is compressed again."""
    monkeypatch.setattr(png, "STRIP_BYTES", 4000)
    original = texture(120, 50, channels, dtype, seed=7)
    edited = original.copy()
    edited[50:70, 10:30] = texture(20, 20, channels, dtype, seed=8)
    ahead = png.compress_strips_ahead(original, (50, 70))
    assert 0 < len(ahead.strips) < len(png.strip_layout(120, 50, original[0, 0].nbytes))
    compressed = []
    real = png._compress_strip
    monkeypatch.setattr(png, "_compress_strip", lambda *args: compressed.append(args[1]) or real(*args))
    assert encode_png(edited, ahead=ahead) == encode_png(edited)
    assert len(compressed) == len(png.strip_layout(120, 50, original[0, 0].nbytes)) * 2 - len(ahead.strips)
    wrong = png.compress_strips_ahead(original, (0, 1))  # claims rows 50-70 stay
    assert encode_png(edited, ahead=wrong) == encode_png(edited)
    assert encode_png(edited[:, :40], ahead=ahead) == encode_png(edited[:, :40])  # another size: nothing taken
