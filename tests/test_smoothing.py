"""The reduced-copy Gaussian blur shared by the restyle and its transition."""
import cv2
import numpy as np

from engine.smoothing import coarse_blur


def _smooth_field(height: int, width: int, channels: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([np.sin(xs / (20.0 + 7 * c)) * np.cos(ys / (25.0 + 5 * c)) for c in range(channels)], axis=2)


def test_close_to_the_full_blur_on_a_smooth_field() -> None:
    field = _smooth_field(301, 203, 3)
    for sigma in (2.0, 7.5, 20.0):
        full = cv2.GaussianBlur(field, (0, 0), sigma)
        inner = (slice(40, -40), slice(40, -40))
        assert np.abs(coarse_blur(field, sigma)[inner] - full[inner]).max() < 0.03


def test_any_channel_count_at_any_reduction() -> None:
    """OpenCV's area reduction refuses more than four channels at a non-integer scale: they go in groups."""
    field = np.random.default_rng(0).random((301, 203, 7)).astype(np.float32)
    blurred = coarse_blur(field, 10.0, border=cv2.BORDER_CONSTANT)
    assert blurred.shape == field.shape
    for channel in range(7):
        alone = coarse_blur(np.ascontiguousarray(field[..., channel]), 10.0, border=cv2.BORDER_CONSTANT)
        np.testing.assert_allclose(blurred[..., channel], alone, atol=1e-6)
    single = coarse_blur(field[..., :1], 10.0)
    assert single.shape == (301, 203, 1)


def test_constant_border_reads_nothing_beyond_the_edge() -> None:
    ones = np.ones((120, 90), np.float32)
    reflected, constant = coarse_blur(ones, 12.0), coarse_blur(ones, 12.0, border=cv2.BORDER_CONSTANT)
    np.testing.assert_allclose(reflected, 1.0, atol=1e-5)
    assert constant[0, 0] < 0.4 and abs(constant[60, 45] - 1.0) < 0.02


def test_area_reduction_of_any_channel_count_equals_each_channel_alone() -> None:
    from engine.smoothing import area_reduce

    values = np.random.default_rng(1).random((97, 131, 6)).astype(np.float32)
    reduced = area_reduce(values, (49, 33))
    assert reduced.shape == (33, 49, 6)
    for channel in range(6):
        alone = cv2.resize(np.ascontiguousarray(values[..., channel]), (49, 33), interpolation=cv2.INTER_AREA)
        np.testing.assert_allclose(reduced[..., channel], alone, atol=1e-6)
