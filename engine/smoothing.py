"""Area reduction of any channel count, and Gaussian blurs of large deviation made on reduced copies (NumPy and
OpenCV only: the restyle, which runs without torch, uses them; so does the fill's pyramid)."""
from __future__ import annotations

import cv2
import numpy as np

#: OpenCV's area reduction takes at most this many channels at once.
_AREA_CHANNELS = 4


def area_reduce(values: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``values`` (H, W) or (H, W, C) reduced to ``size`` (width, height) by area, any channel count (OpenCV's
    area reduction takes at most four channels at a non-integer scale: more go in groups)."""
    if values.ndim == 2 or values.shape[2] <= _AREA_CHANNELS:
        return cv2.resize(values, size, interpolation=cv2.INTER_AREA)
    return np.concatenate([cv2.resize(np.ascontiguousarray(values[..., start:start + _AREA_CHANNELS]), size,
                                      interpolation=cv2.INTER_AREA).reshape(size[1], size[0], -1)
                           for start in range(0, values.shape[2], _AREA_CHANNELS)], axis=2)


def coarse_blur(values: np.ndarray, sigma: float, border: int = cv2.BORDER_REFLECT_101) -> np.ndarray:
    """A Gaussian blur of large ``sigma`` (pixels) of ``values`` (H, W) or (H, W, C), computed on a copy
    reduced by an integer factor (sigma // 3) and brought back bilinearly: within a few per cent of the
    full blur for the smooth layers it is used on, at a fraction of the time. ``border`` is OpenCV's
    border rule for the blur (``cv2.BORDER_CONSTANT``: nothing beyond the edge, as normalised convolution
    wants)."""
    factor = max(1, int(sigma // 3))
    if factor == 1:
        return cv2.GaussianBlur(values, (0, 0), sigma, borderType=border)
    height, width = values.shape[:2]
    small_size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.GaussianBlur(area_reduce(values, small_size), (0, 0), sigma / factor, borderType=border)
    return cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR).reshape(values.shape)
