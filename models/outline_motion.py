"""A motion from the outline: reads fixed on the new shape's outline, harmonic everywhere else.

Used by ``engine.unchanged_outline`` when a region grown or shrunk by the brush keeps most of its outline:
:func:`outline_reads` pairs each pixel of the new shape's outline with the nearest pixel of the region's
outline (itself where the two coincide), and :func:`harmonic_motion` interpolates displacements given on
some pixels by Laplace's equation (the smoothest field through them), zero at the grid's border.
NumPy/SciPy only; masks and motion on the alignment's R x R grid, displacements as (dx, dy).
"""
from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg

def _outline(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels with a 4-neighbour outside it (the image border counts as outside)."""
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def outline_reads(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """For each pixel of the new shape's outline: its rows and columns and its backward displacement (n, 2) as
    (dx, dy) to the nearest pixel of the region's outline; None when either outline is empty."""
    source_outline, target_outline = _outline(source), _outline(target)
    if not source_outline.any() or not target_outline.any():
        return None
    _, labels = cv2.distanceTransformWithLabels((~source_outline).astype(np.uint8), cv2.DIST_L2, 5,
                                                labelType=cv2.DIST_LABEL_PIXEL)
    # Labels number the zero pixels (the region's outline) in row-major order, from 1.
    outline_y, outline_x = np.nonzero(source_outline)
    rows, cols = np.nonzero(target_outline)
    nearest = labels[rows, cols] - 1
    reads = np.stack([outline_x[nearest] - cols, outline_y[nearest] - rows], axis=1).astype(np.float64)
    return rows, cols, reads


def harmonic_motion(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(H, W, 2): ``values`` (n, 2) at the given pixels, zero on the border, harmonic (5-point Laplacian) elsewhere."""
    height, width = shape
    fixed = np.zeros(shape, bool)
    fixed[0, :] = fixed[-1, :] = fixed[:, 0] = fixed[:, -1] = True
    known = np.zeros((height, width, 2))
    fixed[rows, cols] = True
    known[rows, cols] = values
    free = ~fixed
    index = np.full(shape, -1, np.int64)
    index[free] = np.arange(int(free.sum()))
    ys, xs = np.nonzero(free)
    n = ys.size
    entries_r, entries_c, entries_v = [np.arange(n)], [np.arange(n)], [np.full(n, 4.0)]
    right = np.zeros((n, 2))
    for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
        ny, nx = ys + dy, xs + dx  # free pixels are never on the border, so neighbours are inside
        neighbour = index[ny, nx]
        inner = neighbour >= 0
        entries_r.append(np.flatnonzero(inner))
        entries_c.append(neighbour[inner])
        entries_v.append(np.full(int(inner.sum()), -1.0))
        right[~inner] += known[ny[~inner], nx[~inner]]
    matrix = scipy.sparse.csr_matrix((np.concatenate(entries_v), (np.concatenate(entries_r),
                                                                  np.concatenate(entries_c))), shape=(n, n))
    solved = scipy.sparse.linalg.factorized(matrix.tocsc())
    motion = known.copy()
    for channel in range(2):
        motion[ys, xs, channel] = solved(right[:, channel])
    return motion.astype(np.float32)
