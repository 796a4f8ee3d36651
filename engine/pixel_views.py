"""Whole pixels as single items: masked copies of (H, W, C) images without per-channel broadcasting.

NumPy copies a boolean-masked selection of colour pixels channel by channel through a broadcast
mask, which at 4K costs tens of milliseconds; viewing each pixel's C samples as one opaque item
of C x itemsize bytes makes the same copy a single pass over (H, W) items, several times faster.
The bytes moved are the same.
"""
from __future__ import annotations

import numpy as np


def as_pixels(image: np.ndarray) -> np.ndarray:
    """(H, W, C) or (N, C) samples as an (H, W) or (N,) view of whole pixels (a view: writes go
    through). The channel axis must be contiguous, as it is in any slice of a C-ordered image."""
    return image.view(np.dtype((np.void, image.shape[-1] * image.itemsize)))[..., 0]


def copy_pixels(target: np.ndarray, source: np.ndarray, where: np.ndarray) -> None:
    """``target[where] = source[where]`` for (H, W, C) images of one dtype and a (H, W) mask."""
    if target.ndim == 2:
        np.copyto(target, source, where=where)
    elif not _channels_contiguous(target):  # a strided view (rare): the channel-wise copy
        np.copyto(target, source, where=where[..., None])
    else:
        source = source if _channels_contiguous(source) else np.ascontiguousarray(source)
        np.copyto(as_pixels(target), as_pixels(source), where=where)


def put_pixels(target: np.ndarray, where: np.ndarray, values: np.ndarray) -> None:
    """``target[where] = values`` for an (H, W, C) image, a (H, W) mask and (n, C) values, one per
    pixel of the mask in row order."""
    if target.ndim == 2:
        target[where] = values.reshape(-1)
    elif not _channels_contiguous(target):
        target[where] = values
    else:
        as_pixels(target)[where] = as_pixels(np.ascontiguousarray(values, dtype=target.dtype))


def _channels_contiguous(image: np.ndarray) -> bool:
    return image.shape[-1] == 1 or image.strides[-1] == image.itemsize
