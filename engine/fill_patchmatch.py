"""A nearest-neighbour field between patches, found with PatchMatch (Barnes et al., SIGGRAPH 2009).

For every target patch centre the field holds the centre of a similar source patch. It is improved
by propagation (a neighbour's match, shifted by one step, is tried: Barnes et al. Sec. 3.2) and
random search at exponentially shrinking radii around the current match (Sec. 3.2, Eq. 1). Both are
done for all patches at once (Jacobi style, as on a GPU), so propagation jumps 8, 4, 2 and 1 pixels
to cross a hole in one sweep (jump flooding).

Patches are compared by their projection on a few principal components of the painting's own
patches (the squared distance of two projections approximates the patches' sum of squared
differences), so one comparison reads a handful of numbers instead of a whole patch.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Principal components kept to describe a patch.
COMPONENTS = 16
#: Patches sampled to find the components.
BASIS_SAMPLES = 1000
#: Subspace iteration for the components: extra vectors carried along, and iterations.
SUBSPACE_EXTRA, SUBSPACE_ITERATIONS = 8, 10
#: Propagation steps of one sweep (pixels).
JUMPS = (8, 4, 2, 1)
DIRECTIONS = ((0, 1), (0, -1), (1, 0), (-1, 0))


def patch_basis(image: np.ndarray, centres: np.ndarray, radius: int, rng: np.random.Generator) -> np.ndarray:
    """The leading principal components (side, side, C, k) of the patches centred at ``centres`` (a mask)."""
    side = 2 * radius + 1
    ys, xs = np.nonzero(centres)
    pick = rng.choice(ys.size, size=min(BASIS_SAMPLES, ys.size), replace=False)
    windows = np.lib.stride_tricks.sliding_window_view(image, (side, side), axis=(0, 1))  # (H', W', C, s, s)
    patches = windows[ys[pick] - radius, xs[pick] - radius].transpose(0, 2, 3, 1).reshape(pick.size, -1)
    patches = np.ascontiguousarray(patches - patches.mean(axis=0), np.float32)
    covariance = cv2.mulTransposed(patches, True).astype(np.float64)
    k = min(COMPONENTS, covariance.shape[0])
    vectors = _leading_eigenvectors(covariance, k, rng)
    return np.ascontiguousarray(vectors).reshape(side, side, image.shape[2], k).astype(np.float32)


def _leading_eigenvectors(matrix: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """The ``k`` leading eigenvectors (n, k) of a symmetric positive semi-definite matrix, by subspace
    iteration with OpenCV's products and small QR steps: LAPACK's threaded eigensolvers stall for
    tenths of a second on a busy two-core machine, and a patch covariance's spectrum falls fast."""
    n = matrix.shape[0]
    block = min(n, k + SUBSPACE_EXTRA)
    basis = rng.standard_normal((n, block))
    for _ in range(SUBSPACE_ITERATIONS):
        basis, _ = np.linalg.qr(cv2.gemm(matrix, basis, 1.0, None, 0.0))
    reduced = cv2.gemm(basis, cv2.gemm(matrix, basis, 1.0, None, 0.0), 1.0, None, 0.0, flags=cv2.GEMM_1_T)
    values, rotation = np.linalg.eigh(reduced)  # block x block: tiny
    return cv2.gemm(basis, rotation[:, ::-1][:, :k], 1.0, None, 0.0)


def describe(image: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Every pixel's patch projected on ``basis``: (H, W, k); patches over the border read it replicated."""
    side, _, channels, k = basis.shape
    planes = [np.ascontiguousarray(image[..., channel]) for channel in range(channels)]
    out = np.empty((k,) + image.shape[:2], np.float32)  # component-major while summing: contiguous planes
    for component in range(k):
        for channel, plane in enumerate(planes):
            response = cv2.filter2D(plane, cv2.CV_32F, basis[..., channel, component], borderType=cv2.BORDER_REPLICATE)
            if channel == 0:
                out[component] = response
            else:
                out[component] += response
    return np.ascontiguousarray(out.transpose(1, 2, 0))


def describe_at(image: np.ndarray, basis: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """:func:`describe` at the pixels (ys, xs) only: (n, k). Computed on their bounding box grown by the
    patch radius, where every patch reads the same pixels as in the whole image (the EM steps change
    the hole alone, so its patches are described again, not the painting's)."""
    radius = basis.shape[0] // 2
    height, width = image.shape[:2]
    y0, y1 = max(0, int(ys.min()) - radius), min(height, int(ys.max()) + radius + 1)
    x0, x1 = max(0, int(xs.min()) - radius), min(width, int(xs.max()) + radius + 1)
    return describe(image[y0:y1, x0:x1], basis)[ys - y0, xs - x0]


@dataclass
class Field:
    """Target patch centres (ty, tx), their matches (sy, sx) and the matches' distances."""

    ty: np.ndarray
    tx: np.ndarray
    sy: np.ndarray
    sx: np.ndarray
    cost: np.ndarray

    def index_map(self, shape: tuple[int, int]) -> np.ndarray:
        """(H, W) int: each target centre's position in the field, -1 elsewhere."""
        index = np.full(shape, -1, np.int64)
        index[self.ty, self.tx] = np.arange(self.ty.size)
        return index


def _costs(sy: np.ndarray, sx: np.ndarray, target: np.ndarray, source: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """The squared distances between the ``target`` descriptors (n, k) and ``source``'s (H, W, k) at
    (sy, sx); infinite where that centre is outside or not ``allowed``. Read by flat index (a source
    outside reads the first centre, whose distance is then discarded)."""
    height, width = allowed.shape
    # Negative positions viewed as unsigned are huge: one comparison an axis tells outside.
    sy, sx = np.asarray(sy, np.int64), np.asarray(sx, np.int64)
    inside = (sy.view(np.uint64) < height) & (sx.view(np.uint64) < width)
    flat = sy * width + sx
    flat[~inside] = 0
    difference = np.take(source.reshape(-1, source.shape[-1]), flat, axis=0)
    difference -= target
    cost = np.einsum("nk,nk->n", difference, difference)
    cost[~(inside & np.take(allowed.reshape(-1), flat))] = np.inf
    return cost


def _try(field: Field, sy: np.ndarray, sx: np.ndarray, target: np.ndarray, source: np.ndarray, allowed: np.ndarray,
         rows: np.ndarray | None = None, slack: float = 0.0) -> None:
    """Keep the candidate matches (for ``rows``, or all) that are closer than the current ones.
    ``slack`` > 0 also takes candidates up to that share worse (to make the field coherent)."""
    if rows is None:
        cost = _costs(sy, sx, target, source, allowed)
        better = cost < field.cost * (1.0 + slack) + (1e-6 if slack else 0.0)
        chosen = np.flatnonzero(better)
    else:
        cost = _costs(sy, sx, np.take(target, rows, axis=0), source, allowed)
        better = cost < field.cost[rows] * (1.0 + slack) + (1e-6 if slack else 0.0)
        chosen = rows[better]
    field.sy[chosen], field.sx[chosen], field.cost[chosen] = sy[better], sx[better], cost[better]


def random_field(ty: np.ndarray, tx: np.ndarray, allowed: np.ndarray, rng: np.random.Generator) -> Field:
    """Each target gets a random allowed source centre."""
    ay, ax = np.nonzero(allowed)
    pick = rng.integers(0, ay.size, size=ty.size)
    return Field(ty, tx, ay[pick].astype(np.int64), ax[pick].astype(np.int64), np.full(ty.size, np.inf, np.float32))


def refresh_costs(field: Field, target: np.ndarray, source: np.ndarray, allowed: np.ndarray) -> None:
    """Recompute the distances after the target patches changed (an EM step)."""
    field.cost = _costs(field.sy, field.sx, target, source, allowed)


@dataclass
class Neighbours:
    """For each propagation step (a jump in a direction, in :func:`propagate`'s order): the step (dy, dx)
    and the field's rows whose neighbour that far along is a target too, with that neighbour's row. The
    targets stay the same while a level is improved, so this is found once a level."""

    steps: list[tuple[int, int, np.ndarray, np.ndarray]]

    @classmethod
    def of(cls, field: Field, index: np.ndarray, jumps: tuple[int, ...] = JUMPS) -> "Neighbours":
        height, width = index.shape
        steps = []
        for jump in jumps:
            for dy, dx in DIRECTIONS:
                ny, nx = field.ty + dy * jump, field.tx + dx * jump
                inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
                neighbour = np.where(inside, index[np.clip(ny, 0, height - 1), np.clip(nx, 0, width - 1)], -1)
                rows = np.flatnonzero(neighbour >= 0)
                if rows.size:
                    steps.append((dy * jump, dx * jump, rows, neighbour[rows]))
        return cls(steps)


def propagate(field: Field, neighbours: Neighbours, target: np.ndarray, source: np.ndarray, allowed: np.ndarray,
              slack: float = 0.0) -> None:
    """Try each neighbour's match shifted back by the step to this patch (Barnes et al. Sec. 3.2)."""
    for dy, dx, rows, other in neighbours.steps:
        _try(field, field.sy[other] - dy, field.sx[other] - dx, target, source, allowed, rows, slack)


def random_search(field: Field, target: np.ndarray, source: np.ndarray, allowed: np.ndarray,
                  rng: np.random.Generator, alpha: float = 0.5) -> None:
    """Try a random match around the current one at radii w, w alpha, w alpha^2, ... (Barnes et al. Eq. 1)."""
    radius = float(max(allowed.shape))
    while radius >= 1.0:
        span = int(radius)
        sy = field.sy + rng.integers(-span, span + 1, size=field.sy.size)
        sx = field.sx + rng.integers(-span, span + 1, size=field.sx.size)
        _try(field, sy, sx, target, source, allowed)
        radius *= alpha


def improve(field: Field, neighbours: Neighbours, target: np.ndarray, source: np.ndarray, allowed: np.ndarray,
            rng: np.random.Generator, sweeps: int) -> None:
    """``sweeps`` rounds of propagation and random search."""
    for _ in range(sweeps):
        propagate(field, neighbours, target, source, allowed)
        random_search(field, target, source, allowed, rng)
