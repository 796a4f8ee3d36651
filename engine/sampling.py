"""Reading an image at scattered points (NumPy and OpenCV only: the restyle, which runs without torch, uses it
too)."""
from __future__ import annotations

import cv2
import numpy as np

#: Row length of the point-sample maps handed to cv2.remap (its maps must stay under 32767 pixels a side).
MAP_ROW = 1024


def sample_points(plane: np.ndarray, xs: np.ndarray, ys: np.ndarray, interpolation: int = cv2.INTER_LINEAR,
                  border_mode: int = cv2.BORDER_REPLICATE, border_value: float = 0) -> np.ndarray:
    """``plane`` (H, W) or (H, W, C) read at the points (``xs``, ``ys``) (pixel coordinates, any
    count): shape (N,) or (N, C). The points are laid out in rows of :data:`MAP_ROW`, since
    ``cv2.remap`` refuses a map of 32767 or more points a side."""
    count = int(np.size(xs))
    rows = max(1, -(-count // MAP_ROW))

    def as_map(coordinates: np.ndarray) -> np.ndarray:
        padded = np.zeros(rows * MAP_ROW, np.float32)
        padded[:count] = np.ravel(coordinates)
        return padded.reshape(rows, MAP_ROW)

    read = cv2.remap(np.ascontiguousarray(plane), as_map(xs), as_map(ys), interpolation, borderMode=border_mode,
                     borderValue=border_value)
    return read.reshape(rows * MAP_ROW, *read.shape[2:])[:count]
