"""The smooth surface through the hole's outline that heals the copies into their surroundings.

At work resolution (``engine.fill_synthesis``'s grid): the copies' mismatch with the painting on the known
ring around the hole is interpolated across it by Laplace's equation (a membrane, as in Georgiev's healing
brush and Perez et al.'s Poisson editing), and the copies' coarse layout is drawn towards the harmonic
interpolation of the painting itself around the hole, solved along the painting's structures (an
anisotropic diffusion) so that a line, a band or a horizon runs on across it. ``engine.fill_apply`` adds
the result to the copies at full resolution.
"""
from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse
import scipy.sparse.linalg

from engine.fill_synthesis import Synthesis

#: The mismatch along the outline is smoothed along it over this many work pixels, and limited to
#: this share of the full range, so that a healing shifts colours and never paints a fog over the copies.
MEMBRANE_SMOOTH, MEMBRANE_CLIP = 2.0, 0.1
#: Draw the fill's coarse layout this much towards the harmonic interpolation of the painting around the
#: hole (the smoothest surface through its outline): below a Gaussian of LOW_FREQUENCY_SIGMA times the hole's
#: size, the fill becomes (1 - pull) copies + pull membrane; the copies' finer detail is kept whole. What lay
#: under a removed object is unknown: where the copies' guess of its large shapes is wrong, a bold guess
#: costs far more squared error than a muted one (chosen on BSDS500 val).
LOW_FREQUENCY_PULL, LOW_FREQUENCY_SIGMA = 1.0, 0.03
#: How much of the pull moves the colours, apart from the lightness (1: all of it). A pull of the colours
#: towards a surface between a yellow and a blue ground mixes a grey-green that is in neither: the Starry
#: Night's moon moved left its place a muddy grey-green, where the copies had put the sky's blue strokes. On
#: BSDS500 val (30 objects, 1.5x / the photos' size): 1 (as before) 16.067 / 15.989 dB, 0.5 16.062, 0.25
#: 16.047 / 15.933, 0 16.023 / 15.899; SSIM within 0.002, texture and seam unchanged. At 0.25 the moon's place
#: is the sky's blue (looked at beside 1, 0.5 and 0); docs/fill-notes.md has the held-out run.
CHROMA_PULL = 0.25
LIGHTNESS_WEIGHTS = np.array([0.299, 0.587, 0.114], np.float32)
#: ... in full only where the copies miss the known ring around the hole by at least this RMS (share of the
#: range); where they continue it better (a repeating painting, a line that runs on), in proportion.
SURE_MISS = 0.1
#: That harmonic surface runs along the painting's structures around the hole (a line, a band, a horizon
#: runs on across it): an anisotropic diffusion along the structure tensor read beside the hole (see
#: diffusion_tensors), across them at ((small + d) / (large + d)) ** ANISOTROPY of the weight along them; the
#: tensor is averaged over TENSOR_SIGMA work pixels. On BSDS500 val (30 objects) it raised the fill from
#: 15.73 to 16.00 dB at 1.5x and from 15.61 to 15.73 at the photos' size (with the pull raised from 0.7 to
#: 1.0 and the solver's regulariser lowered, see laplace), SSIM 0.350 -> 0.354, texture 0.758 -> 0.757.
#: 0 turns it off (the 5-point Laplacian).
ANISOTROPY, TENSOR_SIGMA, TENSOR_DELTA = 2.0, 2.0, 1e-4
#: ... but never less than this across them: rows of a hole that reach the picture's edge at both ends still
#: take their values from the rows beside them.
ACROSS_MIN = 1e-3
#: The surface is solved through the pixels around the hole that may not be read but stay (the old region's
#: rim beyond the reach of a small region's edit), up to the painting beyond them: a free edge there let the
#: rest of the outline decide alone (an eye moved up in Picasso's self-portrait left a grey-brown band where
#: the skin below should have come in). On BSDS500 val (30 objects): 16.03 / 16.02 dB -> 16.03 / 16.05 at
#: 1.5x / the photos' size, SSIM unchanged; moved by 0.2-0.5x their size instead, 17.28 -> 17.27.
SURFACE_THROUGH_GAP = True


_AXES = ((0, 1), (0, -1), (1, 0), (-1, 0))
_DIAGONALS = ((1, 1), (1, -1), (-1, 1), (-1, -1))


def laplace(unknown: np.ndarray, readable: np.ndarray, boundary: np.ndarray,
            tensors: np.ndarray | None = None) -> np.ndarray:
    """``boundary`` (h, w, C) with its ``unknown`` pixels replaced by the harmonic interpolation of their
    readable neighbours' values (solved directly); beside unreadable pixels or the image's edge, a Neumann
    edge (the pixel mirrors itself). The other pixels are returned as they are.

    Without ``tensors``, the 5-point Laplacian. With ``tensors`` ((h, w, 3): dxx, dxy, dyy of a diffusion
    tensor D at each unknown pixel), div(D grad u) = 0 on the eight neighbours (see ``_lattice_weight``): a
    weighted graph Laplacian, so the solution still lies within its boundary values."""
    height, width = unknown.shape
    out = boundary.copy()
    hy, hx = np.nonzero(unknown)
    count = hy.size
    if count == 0:
        return out
    index = -np.ones((height, width), np.int64)
    index[hy, hx] = np.arange(count)
    diagonal = np.full(count, 1e-9)  # keeps a part with no readable neighbour solvable (at 0)
    rows, cols, data = [], [], []
    rhs = np.zeros((count, boundary.shape[2]))
    at_hole = tensors[hy, hx].astype(np.float64) if tensors is not None else None
    for dy, dx in _AXES if tensors is None else _AXES + _DIAGONALS:
        weight = np.ones(count) if at_hole is None else _lattice_weight(at_hole, dy, dx)
        ny, nx = hy + dy, hx + dx
        inside = (ny >= 0) & (ny < height) & (nx >= 0) & (nx < width)
        ny, nx = np.clip(ny, 0, height - 1), np.clip(nx, 0, width - 1)
        neighbour = np.where(inside, index[ny, nx], -1)
        inner = neighbour >= 0
        edge = inside & ~inner & readable[ny, nx]
        rows.append(np.flatnonzero(inner))
        cols.append(neighbour[inner])
        data.append(-weight[inner])
        diagonal[inner | edge] += weight[inner | edge]
        rhs[edge] += weight[edge, None] * boundary[ny[edge], nx[edge]]
    rows.append(np.arange(count))
    cols.append(np.arange(count))
    data.append(diagonal)
    matrix = scipy.sparse.csr_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))),
                                     shape=(count, count))
    solved = scipy.sparse.linalg.spsolve(matrix.tocsc(), rhs)
    out[hy, hx] = np.asarray(solved, np.float32).reshape(count, -1)
    return out


def _lattice_weight(tensors: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The weight of the step (dy, dx) for diffusion tensors (n, 3) = dxx, dxy, dyy: D split into
    non-negative multiples of the lattice's directions, D = (dxx - |dxy|) x x^T + (dyy - |dxy|) y y^T +
    |dxy| v v^T with v = (1, sign dxy), exact where D allows it (|dxy| <= dxx, dyy), clipped at 0 where
    not; the identity gives the 5-point Laplacian."""
    dxx, dxy, dyy = tensors[:, 0], tensors[:, 1], tensors[:, 2]
    if dy == 0:
        return np.maximum(dxx - np.abs(dxy), 0.0)
    if dx == 0:
        return np.maximum(dyy - np.abs(dxy), 0.0)
    return np.maximum(dxy if dx * dy > 0 else -dxy, 0.0)


def diffusion_tensors(image: np.ndarray, unknown: np.ndarray, readable: np.ndarray) -> np.ndarray:
    """(h, w, 3): dxx, dxy, dyy of a diffusion tensor at each ``unknown`` pixel that runs along the
    structures of the painting around the hole. The structure tensor (Gaussian-weighted gradient products,
    Weickert's coherence-enhancing diffusion) is read on the readable pixels beside the hole and interpolated
    harmonically into it; across the structures the tensor keeps (small + d) / (large + d) of its weight along
    them (its eigenvalues, d = TENSOR_DELTA of the hole's mean larger eigenvalue), to the power ANISOTROPY."""
    grey = image.mean(axis=2).astype(np.float32)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    near_hole = cv2.dilate(unknown.view(np.uint8), np.ones((3, 3), np.uint8)) > 0
    valid = (readable & ~near_hole).astype(np.float32)  # gradients not touched by the hole's own pixels
    products = np.stack([gx * gx, gx * gy, gy * gy], axis=2) * valid[..., None]
    support = cv2.GaussianBlur(valid, (0, 0), TENSOR_SIGMA)
    structure = cv2.GaussianBlur(products, (0, 0), TENSOR_SIGMA) / np.maximum(support, 1e-6)[..., None]
    structure = laplace(unknown, readable & (support > 1e-3), structure)
    jxx, jxy, jyy = structure[..., 0], structure[..., 1], structure[..., 2]
    half_trace, root = (jxx + jyy) / 2, np.sqrt(((jxx - jyy) / 2) ** 2 + jxy**2)
    large, small = half_trace + root, np.maximum(half_trace - root, 0.0)
    delta = max(TENSOR_DELTA * (float(np.mean(large[unknown])) if unknown.any() else 0.0), 1e-12)
    across = np.maximum(((small + delta) / (large + delta)) ** ANISOTROPY, ACROSS_MIN)
    angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy)  # of the gradients (the larger eigenvalue's direction)
    c, s = np.cos(angle), np.sin(angle)
    # D = across g g^T + t t^T, g = (c, s) across the structures, t = (-s, c) along them
    return np.stack([across * c * c + s * s, (across - 1) * c * s, across * s * s + c * c], axis=2).astype(np.float32)


def healing_surface(synthesis: Synthesis) -> np.ndarray:
    """The smooth correction (h, w, C) at work resolution: 0 on known pixels away from the hole; on the
    known ring around the hole, the painting minus what the copies predict there; inside the hole, the
    harmonic interpolation of that ring. With LOW_FREQUENCY_PULL, the copies' coarse layout is also
    drawn towards the harmonic interpolation of the painting around the hole (see there)."""
    image = synthesis.image
    unknown = synthesis.unknown
    height, width = unknown.shape
    ring = (cv2.dilate(unknown.view(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~unknown
    correction = np.zeros_like(image)
    ry, rx = np.nonzero(ring & (synthesis.weight > 0) & synthesis.readable)
    if ry.size == 0:
        return correction
    sy = np.clip(ry + synthesis.offset[ry, rx, 0], 0, height - 1)
    sx = np.clip(rx + synthesis.offset[ry, rx, 1], 0, width - 1)
    residual = np.zeros_like(image)
    support = np.zeros(unknown.shape, np.float32)
    residual[ry, rx] = image[ry, rx] - image[sy, sx]
    support[ry, rx] = 1.0
    # How far the copies miss the painting just around the hole (RMS): near 0 where the painting repeats.
    miss = float(np.sqrt(np.mean(residual[ry, rx] ** 2)))
    if MEMBRANE_SMOOTH > 0:  # the copies' texture mismatch is noise here: only the mismatch's trend is healed
        residual = cv2.GaussianBlur(residual, (0, 0), MEMBRANE_SMOOTH).reshape(image.shape)
        support = cv2.GaussianBlur(support, (0, 0), MEMBRANE_SMOOTH)
        residual[ry, rx] /= np.maximum(support[ry, rx], 1e-6)[:, None]
    correction[ry, rx] = np.clip(residual[ry, rx], -MEMBRANE_CLIP, MEMBRANE_CLIP)
    if LOW_FREQUENCY_PULL <= 0 or miss <= 0:
        return laplace(unknown, synthesis.readable, correction)
    # One solve for both: the correction's interpolation and the painting's own (its known pixels as boundary).
    channels = image.shape[2]
    tensors = diffusion_tensors(image, unknown, synthesis.readable) if ANISOTROPY > 0 else None
    solved = ~synthesis.readable if SURFACE_THROUGH_GAP else unknown
    both = laplace(solved, synthesis.readable, np.concatenate([correction, image], axis=2), tensors)
    correction, harmonic = both[..., :channels], both[..., channels:]
    rows, cols = np.flatnonzero(unknown.any(axis=1)), np.flatnonzero(unknown.any(axis=0))
    sigma = LOW_FREQUENCY_SIGMA * max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    gap = np.where(unknown[..., None], harmonic - image - correction, 0.0).astype(np.float32)
    if CHROMA_PULL < 1.0 and channels == 3:  # the colours' part of the pull, apart from the lightness's
        lightness = gap @ LIGHTNESS_WEIGHTS
        gap = lightness[..., None] + CHROMA_PULL * (gap - lightness[..., None])
    pull = cv2.GaussianBlur(gap, (0, 0), max(sigma, 0.5)).reshape(image.shape)
    share = LOW_FREQUENCY_PULL * (min(1.0, miss / SURE_MISS) if SURE_MISS > 0 else 1.0)
    return correction + share * pull
