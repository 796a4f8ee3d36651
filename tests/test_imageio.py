"""Reading and writing artworks and masks: every kind of bad input gets one clear message, every
supported kind is decoded upright and exactly, and no write ever leaves a half-written file.

All files are generated in tmp_path; nothing large is committed or held for long.
"""
from __future__ import annotations

import errno
import io
import os
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from engine import atomic
from engine.errors import ImageReadError, ImageWriteError, MaskError
from engine.imageio import (DEFAULT_MAX_PIXELS, encode_image, load_image, load_mask, max_pixels_from_environment,
                            save_image, save_mask)

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


# -- helpers ---------------------------------------------------------------------------------------
def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width`` x ``height`` RGB pixels (a decompression bomb's shape)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def texture(height: int = 48, width: int = 64, channels: int = 3, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    return rng.integers(0, top, (height, width, channels), endpoint=True).astype(dtype)


def no_temporaries(folder: Path) -> bool:
    return not list(folder.glob(".*.tmp"))


# -- bad input files -------------------------------------------------------------------------------
def truncated(fmt: str) -> bytes:
    data = encoded(Image.fromarray(texture(120, 160)), fmt)
    return data[: len(data) // 2]


@pytest.mark.parametrize("name,content,message", [
    ("zero.png", b"", "is empty (0 bytes)"),
    ("cut.png", truncated("PNG"), "damaged or truncated"),
    ("cut.jpg", truncated("JPEG"), "damaged or truncated"),
    ("cut.tif", truncated("TIFF"), "damaged or truncated"),
    ("cut.webp", truncated("WEBP"), "damaged or truncated"),
    ("header_only.png", png_claiming(64, 64)[:33], "damaged or truncated (it starts like a PNG file"),
    ("notes.png", b"these are my notes, not a painting\n" * 20, "not an image, or its format is not supported"),
    ("drawing.svg", b"<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>", "not an image"),
    ("old.bmp", encoded(Image.new("RGB", (8, 8)), "BMP"), "BMP images are not supported; use PNG, JPEG, TIFF or WebP"),
    ("anim.gif", encoded(Image.new("P", (8, 8)), "GIF"), "GIF images are not supported"),
    ("bomb.png", png_claiming(100_000, 100_000), "is 100000x100000 (10000 megapixels), above the limit of 120 megapixels"),
])
def test_bad_files_get_one_clear_line(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    started = time.perf_counter()
    with pytest.raises(ImageReadError) as caught:
        load_image(path)
    text = str(caught.value)
    assert message in text and name in text and "\n" not in text
    assert time.perf_counter() - started < 5  # refused from the header, never decoded
    assert path.read_bytes() == content


def test_jpeg_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    data = bytearray(encoded(Image.new("RGB", (8, 8)), "JPEG"))
    frame = data.find(b"\xff\xc0")
    data[frame + 5:frame + 9] = struct.pack(">HH", 60000, 60000)
    path = tmp_path / "bomb.jpg"
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=r"60000x60000 \(3600 megapixels\), above the limit.*SIMNET_MAX_PIXELS"):
        load_image(path)


def test_missing_file_folder_and_fifo(tmp_path: Path) -> None:
    with pytest.raises(ImageReadError, match="no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="is a folder, not an image"):
        load_image(tmp_path)
    if not hasattr(os, "mkfifo"):
        return
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome: list[BaseException] = []
    reader = threading.Thread(target=lambda: outcome.append(pytest.raises(ImageReadError, load_image, fifo).value),
                              daemon=True)
    reader.start()
    reader.join(10)
    assert not reader.is_alive(), "reading a FIFO must not block"
    assert "not a regular file" in str(outcome[0])


@pytest.mark.skipif(IS_ROOT or os.name == "nt", reason="root reads any file")
def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.png"
    save_image(path, texture())
    path.chmod(0)
    with pytest.raises(ImageReadError, match="no permission to read it"):
        load_image(path)


# -- the pixel limit -------------------------------------------------------------------------------
@pytest.mark.parametrize("value,expected", [
    ("", DEFAULT_MAX_PIXELS), ("200000000", 200_000_000), ("200_000_000", 200_000_000), ("2e8", 200_000_000),
    (" 5000 ", 5000), ("0", DEFAULT_MAX_PIXELS), ("-3", DEFAULT_MAX_PIXELS), ("lots", DEFAULT_MAX_PIXELS),
])
def test_pixel_limit_from_the_environment(monkeypatch, value: str, expected: int) -> None:
    monkeypatch.setenv("SIMNET_MAX_PIXELS", value)
    assert max_pixels_from_environment() == expected


def test_the_limit_can_be_lowered_and_raised(tmp_path: Path, monkeypatch) -> None:
    """A 10000x10000 header is refused under a 50 MP limit and passes the check under 200 MP; its
    (fake) pixel data then fails as damaged, so no 300 MB image is ever allocated."""
    path = tmp_path / "huge.png"
    path.write_bytes(png_claiming(10_000, 10_000))
    monkeypatch.setenv("SIMNET_MAX_PIXELS", "50_000_000")
    with pytest.raises(ImageReadError, match=r"10000x10000 \(100 megapixels\), above the limit of 50 megapixels"):
        load_image(path)
    monkeypatch.setenv("SIMNET_MAX_PIXELS", "2e8")
    with pytest.raises(ImageReadError, match="damaged or truncated"):
        load_image(path)
    with pytest.raises(ImageReadError, match="above the limit of 0.001 megapixels"):
        load_image(path, max_pixels=1000)  # the explicit argument wins over the environment


def test_a_real_10000_by_10000_image_opens_under_the_default_limit(tmp_path: Path) -> None:
    assert 10_000 * 10_000 <= DEFAULT_MAX_PIXELS
    path = tmp_path / "big.png"
    Image.new("L", (10_000, 10_000), 7).save(path, compress_level=1)  # 100 MB of grey, ~100 kB on disk
    pixels = load_image(path).pixels
    assert pixels.shape == (10_000, 10_000, 1) and pixels.dtype == np.uint8
    assert pixels[0, 0, 0] == 7 and pixels[-1, -1, 0] == 7
    del pixels


def test_one_pixel_image_round_trips(tmp_path: Path) -> None:
    for suffix in (".png", ".tif", ".webp"):
        save_image(tmp_path / f"one{suffix}", np.array([[[10, 200, 30]]], np.uint8))
        assert load_image(tmp_path / f"one{suffix}").pixels.shape == (1, 1, 3)


# -- every supported kind ----------------------------------------------------------------------------
@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_sixteen_bit_round_trips_exactly(tmp_path: Path, channels: int, suffix: str) -> None:
    pixels = texture(channels=channels, dtype=np.uint16, seed=channels)
    path = tmp_path / f"deep{suffix}"
    save_image(path, pixels)
    loaded = load_image(path)
    assert loaded.bit_depth == 16
    np.testing.assert_array_equal(loaded.pixels, pixels)


@pytest.mark.parametrize("suffix,depth,by_pillow,by_opencv", [(".png", np.uint8, 0, 1), (".tif", np.uint8, 1, 0),
                                                                (".png", np.uint16, 0, 1), (".tif", np.uint16, 0, 1)])
def test_an_image_is_decoded_once(tmp_path: Path, monkeypatch, suffix: str, depth,
                                  by_pillow: int, by_opencv: int) -> None:
    """An 8-bit file is decoded once: a PNG by OpenCV alone (faster than Pillow's decoder, and Pillow must
    not decode it again looking for EXIF), a TIFF by Pillow alone (decoding twice cost 0.3 s on a 4K PNG).
    Pillow reduces 16-bit colour to 8 bits, so OpenCV decodes that, alone (decoding it twice took 1.35
    instead of 0.69 s for a 4K PNG)."""
    from PIL import Image

    from engine import imageio

    pixels = texture(channels=3, dtype=depth, seed=4)
    save_image(tmp_path / f"art{suffix}", pixels)
    opencv_calls, pillow_calls = [], []
    real_imdecode, real_decoder = imageio.cv2.imdecode, Image._getdecoder
    monkeypatch.setattr(imageio.cv2, "imdecode", lambda *args: opencv_calls.append(1) or real_imdecode(*args))
    monkeypatch.setattr(Image, "_getdecoder", lambda *args: pillow_calls.append(1) or real_decoder(*args))
    np.testing.assert_array_equal(load_image(tmp_path / f"art{suffix}").pixels, pixels)
    assert (len(pillow_calls), len(opencv_calls)) == (by_pillow, by_opencv)


def test_png_read_by_opencv_keeps_metadata_and_orientation(tmp_path: Path) -> None:
    """The 8-bit PNG decoded by OpenCV gets the same pixels, profile and EXIF as Pillow's decode; an EXIF
    chunk after the pixels (which Pillow reads only while decoding) sends the file to Pillow."""
    from PIL import Image, ImageCms

    pixels = texture(channels=3, dtype=np.uint8, seed=5)
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated a quarter turn clockwise
    exif[0x010F] = "Camera"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG", exif=exif.tobytes(), icc_profile=profile)
    from test_speed_png import chunks

    found = chunks(buffer.getvalue())
    late_order = [chunk for chunk in found if chunk[0] != b"eXIf"][:-1] + [chunk for chunk in found if chunk[0] == b"eXIf"]
    late_exif = b"\x89PNG\r\n\x1a\n" + b"".join(png_chunk(kind, body) for kind, body in late_order + found[-1:])
    for name, data in (("early.png", buffer.getvalue()), ("late.png", late_exif)):
        (tmp_path / name).write_bytes(data)
        loaded = load_image(tmp_path / name)
        np.testing.assert_array_equal(loaded.pixels, np.rot90(pixels, -1))
        assert loaded.icc_profile == profile
        carried = Image.Exif()
        carried.load(loaded.exif)
        assert carried[0x010F] == "Camera" and carried[0x0112] == 1


def test_sixteen_bit_colour_keeps_metadata_and_orientation(tmp_path: Path, monkeypatch) -> None:
    """A 16-bit colour PNG whose EXIF follows its pixels is decoded by Pillow for the EXIF and by OpenCV for
    the depth; one whose metadata comes first by OpenCV alone: the same pixels, profile and EXIF, turned
    upright. A 16-bit TIFF with an orientation tag is turned once (OpenCV's reader turns it itself)."""
    from PIL import Image, ImageCms

    from engine import imageio
    from test_speed_png import chunks

    pixels = texture(channels=3, dtype=np.uint16, seed=6)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera"
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    found = chunks(cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))[1].tobytes())
    metadata = [(b"iCCP", b"sRGB\0\0" + zlib.compress(profile)), (b"eXIf", exif.tobytes()[6:])]
    orders = {"early.png": (found[:1] + metadata + found[1:], 0),
              "late.png": (found[:1] + metadata[:1] + found[1:-1] + metadata[1:] + found[-1:], 1)}
    pillow_calls = []
    real_decoder = Image._getdecoder
    monkeypatch.setattr(Image, "_getdecoder", lambda *args: pillow_calls.append(1) or real_decoder(*args))
    for name, (order, by_pillow) in orders.items():
        (tmp_path / name).write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(png_chunk(kind, body) for kind, body in order))
        pillow_calls.clear()
        loaded = load_image(tmp_path / name)
        assert len(pillow_calls) == by_pillow
        assert loaded.pixels.dtype == np.uint16
        np.testing.assert_array_equal(loaded.pixels, np.rot90(pixels, -1))
        assert loaded.icc_profile == profile
        carried = Image.Exif()
        carried.load(loaded.exif)
        assert carried[0x010F] == "Camera" and carried[0x0112] == 1
    # A TIFF with an orientation tag (6: a quarter turn clockwise), written by OpenCV with the tag added.
    tiff = bytearray(cv2.imencode(".tif", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))[1].tobytes())
    assert tiff[:4] == b"II*\0"
    directory = struct.unpack_from("<I", tiff, 4)[0]
    count = struct.unpack_from("<H", tiff, directory)[0]
    entries = [tiff[directory + 2 + 12 * index: directory + 14 + 12 * index] for index in range(count)]
    entries.append(bytearray(struct.pack("<HHII", 274, 3, 1, 6)))
    entries.sort(key=lambda entry: struct.unpack_from("<H", entry)[0])
    next_directory = tiff[directory + 2 + 12 * count: directory + 6 + 12 * count]
    new_directory = len(tiff)
    tiff += struct.pack("<H", len(entries)) + b"".join(entries) + next_directory
    struct.pack_into("<I", tiff, 4, new_directory)
    (tmp_path / "turned.tif").write_bytes(bytes(tiff))
    assert imageio.Image.open(tmp_path / "turned.tif").tag_v2.get(274) == 6
    np.testing.assert_array_equal(load_image(tmp_path / "turned.tif").pixels, np.rot90(pixels, -1))


def test_sixteen_bit_grey_with_alpha_png(tmp_path: Path) -> None:
    grey_alpha = np.stack([np.full((2, 3), 1000), np.full((2, 3), 60000)], axis=-1).astype(">u2")
    rows = b"".join(b"\0" + row.tobytes() for row in grey_alpha)
    header = struct.pack(">IIBBBBB", 3, 2, 16, 4, 0, 0, 0)
    path = tmp_path / "ga16.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(rows))
                     + png_chunk(b"IEND", b""))
    pixels = load_image(path).pixels
    assert pixels.dtype == np.uint16 and pixels.shape == (2, 3, 4)
    np.testing.assert_array_equal(pixels[0, 0], [1000, 1000, 1000, 60000])


def test_cmyk_jpeg_becomes_rgb_without_its_cmyk_profile(tmp_path: Path) -> None:
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (16, 8), (0, 255, 255, 0)).save(path, quality=100, icc_profile=b"fake cmyk profile")
    artwork = load_image(path)
    assert artwork.pixels.shape == (8, 16, 3) and artwork.pixels.dtype == np.uint8
    red, green, blue = (int(value) for value in artwork.pixels[4, 8])
    assert red > 200 and green < 50 and blue < 50  # full magenta + yellow is red
    assert artwork.icc_profile is None  # a CMYK profile does not describe the RGB pixels


@pytest.mark.parametrize("mode,transparency,shape", [
    ("P", None, (6, 8, 3)), ("P", 0, (6, 8, 4)), ("L", None, (6, 8, 1)), ("LA", None, (6, 8, 4)),
    ("1", None, (6, 8, 1)), ("RGBA", None, (6, 8, 4)),
])
def test_palette_and_grey_with_and_without_alpha(tmp_path: Path, mode: str, transparency, shape) -> None:
    image = Image.new(mode, (8, 6))
    if mode == "P":
        image.putpalette([0, 0, 0, 250, 20, 10] + [0, 0, 0] * 254)
        image.putpixel((1, 1), 1)
    options = {"transparency": transparency} if transparency is not None else {}
    path = tmp_path / f"{mode}.png"
    image.save(path, **options)
    pixels = load_image(path).pixels
    assert pixels.shape == shape and pixels.dtype == np.uint8
    if mode == "P":
        np.testing.assert_array_equal(pixels[1, 1, :3], [250, 20, 10])
        if transparency is not None:
            assert pixels[0, 0, 3] == 0 and pixels[1, 1, 3] == 255


@pytest.mark.parametrize("orientation,shape,corner", [
    (1, (20, 40), (0, 0)), (3, (20, 40), (19, 39)), (6, (40, 20), (0, 19)), (8, (40, 20), (39, 0)),
])
def test_exif_rotated_photos_are_upright(tmp_path: Path, orientation: int, shape, corner) -> None:
    """A red block in the stored top-left corner lands where the orientation tag says."""
    pixels = np.full((20, 40, 3), 255, np.uint8)
    pixels[:4, :4] = (255, 0, 0)
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.jpg"
    image.save(path, exif=exif.tobytes(), quality=100)
    artwork = load_image(path)
    assert artwork.pixels.shape[:2] == shape
    row, column = corner
    assert artwork.pixels[row, column, 1] < 60  # red, not white
    stored = Image.Exif()
    stored.load(artwork.exif or b"")
    assert stored.get(0x0112, 1) == 1  # the pixels are upright now, so export must not rotate them again


def test_exif_rotated_sixteen_bit_png(tmp_path: Path) -> None:
    pixels = np.zeros((2, 4, 3), np.uint16)
    pixels[0, 0] = (65535, 0, 0)
    data = encode_image(pixels, "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6
    body = exif.tobytes()
    body = body[6:] if body.startswith(b"Exif\0\0") else body
    split = data.find(b"IDAT") - 4
    (tmp_path / "deep.png").write_bytes(data[:split] + png_chunk(b"eXIf", body) + data[split:])
    loaded = load_image(tmp_path / "deep.png").pixels
    assert loaded.shape == (4, 2, 3) and loaded.dtype == np.uint16
    assert loaded[0, 1, 0] == 65535 and loaded[0, 0, 0] == 0


def test_malformed_exif_orientation_is_ignored(tmp_path: Path) -> None:
    jpeg = encoded(Image.fromarray(texture(8, 8)), "JPEG")
    garbage = b"Exif\0\0II*\0\x08\0\0\0\x01\0\x12\x01\x02\0\x04\0\0\0abc\0\0\0\0\0"
    app1 = b"\xff\xe1" + struct.pack(">H", len(garbage) + 2) + garbage
    (tmp_path / "odd.jpg").write_bytes(jpeg[:2] + app1 + jpeg[2:])
    assert load_image(tmp_path / "odd.jpg").pixels.shape == (8, 8, 3)


def test_non_ascii_paths(tmp_path: Path) -> None:
    folder = tmp_path / "Ölgemälde – 星空"
    folder.mkdir()
    pixels = texture()
    for suffix in (".png", ".jpg", ".tif", ".webp"):
        path = folder / f"ночь{suffix}"
        save_image(path, pixels)
        assert load_image(path).pixels.shape == pixels.shape
    np.testing.assert_array_equal(load_image(folder / "ночь.png").pixels, pixels)
    save_mask(folder / "маска.png", pixels[..., 0] > 128)
    np.testing.assert_array_equal(load_mask(folder / "маска.png"), pixels[..., 0] > 128)


# -- writing: nothing half-written, the old file survives ------------------------------------------
@pytest.fixture()
def previous(tmp_path: Path) -> Path:
    path = tmp_path / "export.png"
    save_image(path, texture(seed=1))
    return path


def test_disk_full_at_fsync_keeps_the_previous_file(previous: Path, monkeypatch) -> None:
    before = previous.read_bytes()

    def full(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", full)
    with pytest.raises(ImageWriteError, match="the disk is full; any previous file is unchanged"):
        save_image(previous, texture(seed=2))
    assert previous.read_bytes() == before and no_temporaries(previous.parent)


def test_disk_full_halfway_through_the_write(previous: Path, monkeypatch) -> None:
    """The disk fills up after part of the data went out: the temporary is removed, the old file stays."""
    before = previous.read_bytes()
    real_fdopen = os.fdopen

    class FillsUp:
        def __init__(self, handle) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

        def __getattr__(self, name: str):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            self.handle.close()

    monkeypatch.setattr(atomic.os, "fdopen", lambda *args, **kwargs: FillsUp(real_fdopen(*args, **kwargs)))
    with pytest.raises(ImageWriteError, match="disk is full"):
        save_image(previous, texture(300, 300, seed=3))
    assert previous.read_bytes() == before and no_temporaries(previous.parent)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE as used here is Linux behaviour")
def test_a_real_write_failure_from_the_kernel_keeps_the_previous_file(previous: Path) -> None:
    """A child process may write at most 64 kB per file (RLIMIT_FSIZE): the kernel refuses the
    rest of a 1 MB export, as a full disk would."""
    before = previous.read_bytes()
    script = (
        "import resource, signal, sys, numpy as np\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "from engine.imageio import save_image\n"
        "from engine.errors import SimNetError\n"
        "pixels = np.random.default_rng(0).integers(0, 255, (600, 600, 3), dtype=np.uint8)\n"
        "try:\n"
        "    save_image(sys.argv[1], pixels)\n"
        "except SimNetError as error:\n"
        "    print(error)\n"
        "    sys.exit(2)\n")
    process = subprocess.run([sys.executable, "-c", script, str(previous)], capture_output=True, text=True,
                             timeout=120, cwd=Path(__file__).resolve().parents[1])
    assert process.returncode == 2, process.stderr
    assert "cannot write" in process.stdout and "any previous file is unchanged" in process.stdout
    assert previous.read_bytes() == before and no_temporaries(previous.parent)


def test_read_only_target_file_is_not_replaced(previous: Path) -> None:
    before = previous.read_bytes()
    previous.chmod(0o444)
    try:
        with pytest.raises(ImageWriteError, match="the file is read-only"):
            save_image(previous, texture(seed=5))
        assert previous.read_bytes() == before and no_temporaries(previous.parent)
    finally:
        previous.chmod(0o644)


@pytest.mark.skipif(IS_ROOT or os.name == "nt", reason="root may write into read-only folders")
def test_read_only_folder(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ImageWriteError, match="no permission to write in"):
            save_image(folder / "out.png", texture())
        assert not list(folder.iterdir())
    finally:
        folder.chmod(0o755)


def test_no_permission_to_write_in_the_folder(tmp_path: Path, monkeypatch) -> None:
    """The same path as above for any user, root included (the folder refuses the temporary file)."""
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    with pytest.raises(ImageWriteError, match=f"no permission to write in {tmp_path}"):
        save_image(tmp_path / "out.png", texture())
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("name,pixels,message", [
    ("missing/out.png", texture(), "does not exist"),
    ("out.bmp", texture(), "cannot write '.bmp' files"),
    ("noext", texture(), "cannot write 'no extension' files"),
    ("out.png", np.zeros((4, 4, 3), np.float64), "could not encode the image"),
])
def test_write_errors_are_one_line(tmp_path: Path, name: str, pixels: np.ndarray, message: str) -> None:
    with pytest.raises(ImageWriteError) as caught:
        save_image(tmp_path / name, pixels)
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert no_temporaries(tmp_path) and not (tmp_path / name).exists()


def test_writing_over_a_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out.png").mkdir()
    with pytest.raises(ImageWriteError, match="it is a folder"):
        save_image(tmp_path / "out.png", texture())


def test_a_new_export_gets_normal_permissions(tmp_path: Path) -> None:
    save_image(tmp_path / "new.png", texture())
    mode = (tmp_path / "new.png").stat().st_mode & 0o777
    assert mode & 0o600 == 0o600


# -- masks -------------------------------------------------------------------------------------------
def test_anti_aliased_and_lossy_masks_are_thresholded_at_half(tmp_path: Path) -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    save_image(tmp_path / "soft.png", ramp[..., None])
    mask = load_mask(tmp_path / "soft.png")
    assert mask.dtype == bool and not mask[0, 127] and mask[0, 128]
    deep = (ramp.astype(np.uint16) * 257)[..., None]
    save_image(tmp_path / "soft16.png", deep)
    np.testing.assert_array_equal(load_mask(tmp_path / "soft16.png"), mask)
    disc = cv2.circle(np.zeros((64, 64), np.uint8), (32, 32), 20, 255, -1, lineType=cv2.LINE_AA)
    save_image(tmp_path / "disc.jpg", np.repeat(disc[..., None], 3, axis=2), quality=60)
    assert abs(int(load_mask(tmp_path / "disc.jpg").sum()) - int((disc >= 128).sum())) < 40


def test_a_label_mask_of_black_and_one_dark_value_is_that_value(tmp_path: Path) -> None:
    labels = np.zeros((12, 16), np.uint8)
    labels[3:8, 4:10] = 1
    save_image(tmp_path / "labels.png", labels[..., None])
    np.testing.assert_array_equal(load_mask(tmp_path / "labels.png"), labels == 1)
    save_image(tmp_path / "labels16.png", labels.astype(np.uint16)[..., None])
    np.testing.assert_array_equal(load_mask(tmp_path / "labels16.png"), labels == 1)
    save_image(tmp_path / "labels_rgb.png", np.repeat(labels[..., None], 3, axis=2))
    np.testing.assert_array_equal(load_mask(tmp_path / "labels_rgb.png"), labels == 1)
    from PIL import Image
    palette = Image.fromarray(labels, "L").convert("P")
    palette.putpalette([0, 0, 0, 128, 0, 0] + [0] * 762)  # black and dark red, as PASCAL VOC's label PNGs
    palette.save(tmp_path / "labels_palette.png")
    np.testing.assert_array_equal(load_mask(tmp_path / "labels_palette.png"), labels == 1)
    dark = labels * 2
    dark[0, 0] = 1  # three values: a drawn (dark) mask, thresholded at half as always
    save_image(tmp_path / "dark.png", dark[..., None])
    assert not load_mask(tmp_path / "dark.png").any()


def test_mask_painted_on_transparency_uses_alpha(tmp_path: Path) -> None:
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[2:5, 2:5] = (0, 0, 0, 255)  # black but opaque: it is the region
    save_image(tmp_path / "alpha.png", rgba)
    mask = load_mask(tmp_path / "alpha.png")
    assert mask.sum() == 9 and mask[3, 3]


def test_mask_of_another_size_and_unreadable_masks(tmp_path: Path) -> None:
    save_mask(tmp_path / "small.png", np.ones((10, 12), bool))
    with pytest.raises(MaskError, match="mask .*small.png is 12x10 but the image is 100x80"):
        load_mask(tmp_path / "small.png", (80, 100))
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(MaskError, match="mask .*empty.png is empty"):
        load_mask(tmp_path / "empty.png")


def test_empty_and_full_mask_files_load_as_such(tmp_path: Path) -> None:
    save_mask(tmp_path / "none.png", np.zeros((5, 6), bool))
    save_mask(tmp_path / "all.png", np.ones((5, 6), bool))
    assert not load_mask(tmp_path / "none.png").any() and load_mask(tmp_path / "all.png").all()


def test_sixteen_bit_colour_tiff_export_keeps_profile_and_exif(tmp_path: Path) -> None:
    """A 16-bit colour TIFF (an Adobe RGB or ProPhoto scan) exported keeps its ICC profile and EXIF tags
    (OpenCV's encoder, used before, wrote neither), and its pixels exactly, read back by Pillow, OpenCV and
    ImageMagick's libtiff alike; with alpha too. The EXIF given in big-endian order is carried as well."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    exif = Image.Exif()
    exif.endian = ">"
    exif[0x010F] = "Scanner"
    exif[0x013B] = "An Artist"
    exif.get_ifd(0x8769)[0x9003] = "2020:01:02 03:04:05"
    for channels in (3, 4):
        pixels = texture(channels=channels, dtype=np.uint16, seed=channels)
        path = tmp_path / f"scan{channels}.tif"
        save_image(path, pixels, icc_profile=profile, exif=exif.tobytes())
        loaded = load_image(path)
        np.testing.assert_array_equal(loaded.pixels, pixels)
        assert loaded.icc_profile == profile
        code = cv2.COLOR_BGRA2RGBA if channels == 4 else cv2.COLOR_BGR2RGB
        np.testing.assert_array_equal(cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_UNCHANGED), code), pixels)
        written = Image.open(path)
        assert written.info["icc_profile"] == profile
        tags = written.getexif()
        assert tags[0x010F] == "Scanner" and tags[0x013B] == "An Artist"
        assert tags.get_ifd(0x8769)[0x9003] == "2020:01:02 03:04:05"


@pytest.mark.parametrize("mode,values", [("F", np.linspace(0.0, 1.0, 48 * 64, dtype=np.float32)),
                                         ("I", np.linspace(0, 60000, 48 * 64).astype(np.int32))])
def test_float_and_int32_tiffs_export_as_unsigned_sixteen_bit(tmp_path: Path, mode: str, values) -> None:
    """A 32-bit float or integer grey TIFF is read as 16 bits; its export is an ordinary unsigned 16-bit
    file. The source's own layout tags (sample format, bit depth, strips), which Pillow lists as its EXIF,
    were carried over and overrode the written ones: a float TIFF came out as an unreadable '16-bit float'
    file, an int32 one as signed (60000 read back as -5536)."""
    source = tmp_path / f"{mode}.tif"
    Image.fromarray(values.reshape(48, 64), mode).save(source, tiffinfo={0x013B: "An Artist"})
    artwork = load_image(source)
    assert artwork.pixels.dtype == np.uint16
    for suffix in (".tif", ".png"):
        path = tmp_path / f"out{suffix}"
        save_image(path, artwork.pixels, icc_profile=artwork.icc_profile, exif=artwork.exif)
        read = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert read is not None and read.dtype == np.uint16
        np.testing.assert_array_equal(read, artwork.pixels[..., 0])
        tags = Image.open(path).getexif()
        if suffix == ".png":
            assert not {258, 273, 339} & set(tags)
        else:
            assert tags.get(339, 1) in (1, (1,))
        assert tags[0x013B] == "An Artist"
    assert load_image(tmp_path / "out.tif").pixels.max() == (65535 if mode == "F" else 60000)
