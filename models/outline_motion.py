"""A motion from the outline: reads fixed on the new shape's outline, harmonic everywhere else.

Used by ``engine.unchanged_outline`` when a region grown or shrunk by the brush keeps most of its outline:
:func:`new_outline` gives the new shape's outline pixels, where the reads are fixed, and
:func:`harmonic_motion` interpolates displacements given on some pixels by Laplace's equation (the smoothest
field through them), zero at the grid's border.
NumPy/SciPy only; masks and motion on the alignment's R x R grid, displacements as (dx, dy).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse
import scipy.sparse.linalg


def _outline(mask: np.ndarray) -> np.ndarray:
    """The mask's pixels with a 4-neighbour outside it (the image border counts as outside)."""
    padded = np.pad(mask, 1)
    inner = padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] & padded[1:-1, 2:]
    return mask & ~inner


def new_outline(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The rows and columns of the new shape's (``target``'s) outline pixels; None when either mask has no outline."""
    if not _outline(source).any():
        return None
    rows, cols = np.nonzero(_outline(target))
    return None if rows.size == 0 else (rows, cols)


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
