"""Masked copies of whole pixels (engine.pixel_views) equal NumPy's channel-wise masked copies."""
from __future__ import annotations

import numpy as np
import pytest

from engine.pixel_views import copy_pixels, put_pixels


def _image(shape: tuple[int, ...], dtype: type, seed: int) -> np.ndarray:
    top = 65535 if dtype == np.uint16 else 255
    return np.random.default_rng(seed).integers(0, top + 1, shape).astype(dtype)


@pytest.mark.parametrize("channels,dtype", [(3, np.uint8), (4, np.uint8), (1, np.uint8), (3, np.uint16), (4, np.uint16)])
def test_masked_copies_equal_numpy(channels: int, dtype: type) -> None:
    canvas, patch = _image((40, 50, channels), dtype, 0), _image((20, 30, channels), dtype, 1)
    where = np.random.default_rng(2).random((20, 30)) > 0.6
    expected = canvas.copy()
    np.copyto(expected[5:25, 10:40], patch, where=where[..., None])
    copied = canvas.copy()
    copy_pixels(copied[5:25, 10:40], patch, where)  # into a slice: the writes reach the canvas
    np.testing.assert_array_equal(copied, expected)

    values = _image((int(where.sum()), channels), dtype, 3)
    expected = canvas[5:25, 10:40].copy()
    expected[where] = values
    put = canvas[5:25, 10:40].copy()
    put_pixels(put, where, values)
    np.testing.assert_array_equal(put, expected)


def test_grey_without_a_channel_axis_and_a_new_axis() -> None:
    canvas, patch = _image((30, 30), np.uint8, 4), _image((30, 30), np.uint8, 5)
    where = np.random.default_rng(6).random((30, 30)) > 0.5
    expected = np.where(where, patch, canvas)
    copied = canvas.copy()
    copy_pixels(copied, patch, where)
    np.testing.assert_array_equal(copied, expected)
    copied = canvas.copy()
    copy_pixels(copied[..., None], patch[..., None], where)
    np.testing.assert_array_equal(copied, expected)
    put = canvas.copy()
    put_pixels(put[..., None], where, patch[where][:, None])
    np.testing.assert_array_equal(put, expected)


def test_strided_images_are_copied_too() -> None:
    """A channel-reversed or transposed view has no whole-pixel view: the copy still comes out right."""
    canvas, patch = _image((20, 20, 3), np.uint8, 7), _image((20, 20, 3), np.uint8, 8)
    where = np.random.default_rng(9).random((20, 20)) > 0.5
    expected = np.where(where[..., None], patch[..., ::-1], canvas)
    copied = canvas.copy()
    copy_pixels(copied, patch[..., ::-1], where)
    np.testing.assert_array_equal(copied, expected)
    planar = np.ascontiguousarray(canvas.transpose(2, 0, 1)).transpose(1, 2, 0)  # channels strided
    expected = np.where(where[..., None], patch, planar)
    copy_pixels(planar, patch, where)
    np.testing.assert_array_equal(planar, expected)
    values = patch[where]
    put_pixels(planar, where, values)
    np.testing.assert_array_equal(planar[where], values)
