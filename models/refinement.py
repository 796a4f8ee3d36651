"""Test-time alignment: sharpen the local affines so the fused field carries y_A exactly onto x_A.

The network predicts keypoints, Jacobians and attention at a small working resolution. Its local
affines are close but rarely sub-pixel exact, and at full resolution a fraction of a working pixel
is several image pixels. Here we keep SIM-Net's structure (K dilated local affines fused by the
network's attention, Eqs. 1-2, 8) and only adjust the affine parameters on the mask-alignment
objective the network was trained with (L_mask), at a finer resolution R, with L-BFGS. The
attention stays as the network made it. Coarse to fine: the first rounds compare blurred masks,
so a start a few pixels off still converges.

The fused field is z + E(z) * motion(z): the attention gives the moved fields E * share_k, so the
motion is sum_k share_k (w^k(z) - z). We return the motion alone: the engine composes it at the
image's full resolution within its own reach.

Three stages, our additions to the paper; their settings were chosen on BSDS500 validation
photographs (see resources/MODEL.md):

1. One shared affine, started from the K affines' mean. Many edits are one motion (a move, a
   turn, a scale). The masks cannot tell K slightly different affines from one, but the painting
   around the region can: K affines blended by the attention bend it K ways. It is kept when it
   carries the mask exactly (:data:`SINGLE_EXACT`) or when the K affines fit no better
   (:data:`SINGLE_TOLERANCE`): the simplest motion that explains the masks.
2. Otherwise the K affines, with a rigidity pull towards their common affine.
3. A smooth residual when the mask IoU stays below :data:`RESIDUAL_GATE` (a brush stroke that
   bulges one stretch of the outline, a region bent unevenly): a coarse grid of offsets,
   upsampled bicubically, faded with the rest of the motion, fitted on the same L_mask with a
   first-difference smoothness penalty.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F

from models.dilation import local_affine_parameters
from models.grids import coordinate_grid, warp
from models.simnet import Correspondence

#: Candidate affines for the shared stage: linear parts (B, N, 2, 2) and offsets (B, N, 2), grid coordinates.
AffineStarts = tuple[torch.Tensor, torch.Tensor]

#: Pull of the K affines towards their common affine (tuned on BSDS500 val: the surroundings of
#: an edit then follow one coherent motion instead of K extrapolated ones).
DEFAULT_RIGIDITY = 2.0
#: The residual stage runs only when the aligned affines leave the mask IoU below this.
RESIDUAL_GATE = 0.97
#: Offsets per side of the residual's control grid, and the weight of its smoothness penalty.
RESIDUAL_GRID = 12
RESIDUAL_SMOOTHNESS = 3.0
#: One affine for the whole edit is kept when its mask IoU is within this of the K affines' IoU
#: (tuned on BSDS500 val; None: always the K affines).
SINGLE_TOLERANCE = 0.005
#: Its iterations, as a share of the K affines' iterations (tuned on BSDS500 val: six parameters
#: are cheap to fit, and more iterations kept sharpening the surroundings).
SINGLE_STEPS_SHARE = 2.0
#: A start this close (mask IoU) skips the coarsest level of the shared fit and half its iterations.
CLOSE_START = 0.95
#: A shared affine this exact (mask IoU) is kept without fitting the K affines at all.
SINGLE_EXACT = 0.985
#: L-BFGS stops a level when its loss or parameters change by less than this (torch's default, 1e-9,
#: let converged levels run to their step budget). On 12 BSDS500 val edits (`simnet eval --bsds-val
#: --edits-per-kind 4`) 1e-6 changed the new shape's PSNR by 0.01 dB on one group (1e-5: 0.05 dB)
#: and took 41 % fewer loss evaluations on a 4K far move (247 -> 145).
STEP_TOLERANCE = 1e-6


def _blur(mask: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (B, 1, R, R) masks; sigma in pixels (0: unchanged)."""
    if sigma <= 0:
        return mask
    radius = max(1, int(math.ceil(3 * sigma)))
    offsets = torch.arange(-radius, radius + 1, device=mask.device, dtype=mask.dtype)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    padded = F.pad(mask, (radius, radius, radius, radius), mode="replicate")
    blurred = F.conv2d(padded, kernel.view(1, 1, 1, -1))
    return F.conv2d(blurred, kernel.view(1, 1, -1, 1))


def minimise_coarse_to_fine(parameters: list[torch.Tensor],
                            loss: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor],
                            source_mask: torch.Tensor, target_mask: torch.Tensor,
                            levels: list[tuple[float, float]], steps: int) -> None:
    """The one optimisation loop of the alignment: L-BFGS on ``parameters``, in place, one round per
    level (blur sigma in pixels, penalty weight), coarsest first, ``steps`` iterations shared out.

    ``loss(source, target, weight)`` gets the two masks blurred at the level's sigma; comparing
    blurred masks first lets a start a few pixels off still converge.
    """
    with torch.enable_grad():
        for sigma, weight in levels:
            source, target = _blur(source_mask, sigma), _blur(target_mask, sigma)
            optimizer = torch.optim.LBFGS(parameters, lr=1.0, max_iter=max(1, steps // len(levels)),
                                          history_size=20, line_search_fn="strong_wolfe",
                                          tolerance_change=STEP_TOLERANCE)

            def closure() -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                value = loss(source, target, weight)
                value.backward()
                return value

            optimizer.step(closure)


def _resize_maps(maps: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(maps, size=(size, size), mode="bilinear", align_corners=False)


def refine_alignment(correspondence: Correspondence, source_mask: torch.Tensor, target_mask: torch.Tensor,
                     envelope: torch.Tensor, steps: int = 40, **options) -> torch.Tensor:
    """The fused backward field (B, R, R, 2) at the masks' resolution R, after ``steps`` of alignment:
    z + E(z) * motion(z), with the motion of :func:`align_motion` (same options) and E = ``envelope``."""
    motion = align_motion(correspondence, source_mask, target_mask, envelope, steps, **options)
    return coordinate_grid(motion.shape[1], motion.device, motion.dtype) + envelope.float().permute(0, 2, 3, 1) * motion


def keypoint_weights(correspondence: Correspondence, size: int) -> torch.Tensor:
    """The keypoints' shares of the envelope at R x R (B, K, R, R), summing to one per pixel."""
    shares = _resize_maps(correspondence.keypoint_shares.float(), size)
    return shares / shares.sum(dim=1, keepdim=True).clamp_min(1e-6)


def align_motion(correspondence: Correspondence, source_mask: torch.Tensor, target_mask: torch.Tensor,
                 envelope: torch.Tensor, steps: int = 40,
                 coarse_sigma: float = 2.0, rigidity: float = DEFAULT_RIGIDITY, residual_steps: int | None = None,
                 single_tolerance: float | None = SINGLE_TOLERANCE, starts: AffineStarts | None = None,
                 valid: torch.Tensor | None = None, use_network: bool = True,
                 guard: bool = True, exact: Callable[[torch.Tensor], bool] | None = None) -> torch.Tensor:
    """The edit's motion before the fade (B, R, R, 2), grid coordinates.

    The fused field of Eq. 8 is z + sum_k m_k (w^k(z) - z) with m_k = E * share_k, i.e. z + E(z) *
    motion(z), motion = sum_k share_k (w^k(z) - z). The alignment fits the fused field; the engine
    takes the motion alone and composes it at full resolution within its own reach
    (``engine.compose``).

    ``source_mask`` and ``target_mask`` are (B, 1, R, R) coverages of the same square crop the
    network saw, and ``envelope`` (B, 1, R, R) the edit's area of influence E on that grid
    (``models.influence.influence_envelope``). With ``steps == 0`` the motion is the network's own.
    ``rigidity`` pulls the K affines towards their weighted mean: of all fields that carry the mask
    onto its new shape, prefer the one that distorts the painting's texture least.
    ``residual_steps`` (default ``steps // 2``; 0 turns it off) bounds the non-rigid residual
    stage; ``single_tolerance`` decides between one shared affine and the K affines (module
    docstring).

    ``starts`` are further candidate affines for the shared stage, (B, N, 2, 2) and (B, N, 2) in
    grid coordinates (``models.hypotheses``); the one that carries the mask best is refined.
    ``valid`` (B, 1, R, R) is 1 where the crop lies inside the image: the target is compared there
    only (a region cut by the border is cut in its new shape too, and what lies past the border is
    unknown). Without ``use_network`` the network's affines are neither a start nor a stage (the
    classical ablation). ``guard`` keeps the map z + motion free of folds near the new shape
    (:func:`fold_free`). ``exact`` judges the one shared affine's motion on finer masks than R x R
    (the caller's full-resolution ones): on a coarse grid a region's thin parts and a border cut
    blur, so an exact move may score well under SINGLE_EXACT there; when ``exact`` says it carries
    the mask, it is kept without trying the K affines or the residual.
    """
    size = source_mask.shape[-1]
    device, dtype = source_mask.device, torch.float32
    with torch.no_grad():
        linear, offset = (value.float() for value in local_affine_parameters(
            correspondence.source_keypoints, correspondence.source_jacobians, correspondence.target_keypoints,
            correspondence.target_jacobians))
        weights = keypoint_weights(correspondence, size).to(device)
        grid = coordinate_grid(size, device, dtype)
        source_mask, target_mask = source_mask.float(), target_mask.float()
        envelope = envelope.float().permute(0, 2, 3, 1)  # (B, R, R, 1)
        compared = None if valid is None else valid.float()  # the target is compared inside the image only
        known_source = source_mask
        # How much each keypoint's field is used on the new shape: the weights of the rigidity term.
        usage = (weights * target_mask).sum(dim=(2, 3))
        usage = usage / usage.sum(dim=1, keepdim=True).clamp_min(1e-6)

        # The shares laid out (B, R*R, K) once, and the grid's two planes, for motion_of: the L-BFGS
        # calls it a hundred times an edit. The same products as einsum("bkhw,bkp->bhwp") and
        # per-channel indexing, without their per-call copies (and, in the backward pass, six
        # zero-filled (B, R, R, 6) gradients, one per indexed channel).
        shares_by_pixel = weights.flatten(2).transpose(1, 2).contiguous()
        grid_x, grid_y = grid[..., 0].contiguous(), grid[..., 1].contiguous()

    def motion_of(linear: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """sum_k share_k (L_k z + b_k - z) over the Eq. 1-2 fields, with the shares mixed into the
        affine parameters first (one small matmul instead of K full fields)."""
        parameters = torch.cat([linear.flatten(2), offset], dim=2)  # (B, K, 6)
        mixed = torch.bmm(shares_by_pixel, parameters).view(parameters.shape[0], size, size, 6)
        l00, l01, l10, l11, b0, b1 = mixed.unbind(-1)
        moved = torch.stack([l00 * grid_x + l01 * grid_y + b0, l10 * grid_x + l11 * grid_y + b1], dim=-1)
        return moved - grid

    if steps <= 0:
        return motion_of(linear, offset)

    def fit(linear: torch.Tensor, offset: torch.Tensor, shared: bool, levels: list[tuple[float, float]],
            steps: int) -> torch.Tensor:
        """L_mask (+ rigidity) over the affines, coarse to fine; ``shared``: one affine for all K keypoints."""
        linear = linear.clone().requires_grad_(True)
        offset = offset.clone().requires_grad_(True)

        def motion() -> torch.Tensor:
            if shared:  # the shares sum to one, so one affine needs no mixing: L z + b - z
                return single_affine_motion(linear, offset, grid)
            return motion_of(linear, offset)

        def loss(source: torch.Tensor, target: torch.Tensor, weight: float) -> torch.Tensor:
            value = _mask_loss(warp(source, grid + envelope * motion()), target, compared)
            if weight > 0:
                parameters = torch.cat([linear.flatten(2), offset], dim=2)  # (B, K, 6)
                mean = (usage[..., None] * parameters).sum(dim=1, keepdim=True)
                value = value + weight * (usage * ((parameters - mean) ** 2).sum(dim=2)).sum(dim=1).mean()
            return value

        minimise_coarse_to_fine([linear, offset], loss, known_source, target_mask, levels, steps)
        with torch.no_grad():
            return motion()

    k_levels = [(coarse_sigma * 3, 10 * rigidity + 1.0), (coarse_sigma, rigidity + 0.1), (0.0, rigidity)]

    def overlap(motion: torch.Tensor) -> torch.Tensor:
        return mask_overlap(known_source, target_mask, grid + envelope * motion, compared)

    if single_tolerance is None and use_network:
        motion = fit(linear, offset, False, k_levels, steps)
        single = None
    else:
        # The simplest motion that explains the masks: one affine for the whole edit, started from
        # the best of the network's mean affine and the classical candidates, kept when the K
        # affines fit the new shape no better (or when it is already exact enough not to try them).
        # The surroundings then follow that one motion exactly.
        with torch.no_grad():
            candidates_linear, candidates_offset = [], []
            if use_network:
                candidates_linear.append((usage[..., None, None] * linear).sum(dim=1, keepdim=True))
                candidates_offset.append((usage[..., None] * offset).sum(dim=1, keepdim=True))
            if starts is not None:
                candidates_linear.append(starts[0].to(device, dtype))
                candidates_offset.append(starts[1].to(device, dtype))
            if not candidates_linear:
                raise ValueError("the alignment needs the network or at least one classical start")
            all_linear, all_offset = torch.cat(candidates_linear, dim=1), torch.cat(candidates_offset, dim=1)
            scores = torch.stack([overlap(single_affine_motion(all_linear[:, n:n + 1], all_offset[:, n:n + 1], grid))
                                  for n in range(all_linear.shape[1])], dim=1)
            best = scores.argmax(dim=1)
            picked = torch.arange(all_linear.shape[0], device=device)
            start_linear, start_offset = all_linear[picked, best][:, None], all_offset[picked, best][:, None]
            close = bool((scores.amax(dim=1) >= CLOSE_START).all())
        if close:  # a start that already carries the mask needs no coarse search, only sharpening
            single = fit(start_linear, start_offset, True, [(coarse_sigma, 0.0), (0.0, 0.0)], steps)
        else:
            single = fit(start_linear, start_offset, True, [(coarse_sigma * 3, 0.0), (coarse_sigma, 0.0), (0.0, 0.0)],
                         max(1, int(steps * SINGLE_STEPS_SHARE)))
        with torch.no_grad():
            single_overlap = overlap(single)
        exact_here = bool((single_overlap >= SINGLE_EXACT).all())
        exact_finer = not exact_here and exact is not None and exact(single)
        if exact_finer:
            residual_steps = 0
        if exact_here or exact_finer or not use_network:
            motion = single
        else:
            motion = fit(linear, offset, False, k_levels, steps)
            with torch.no_grad():
                tolerance = SINGLE_TOLERANCE if single_tolerance is None else single_tolerance
                simpler = (single_overlap >= SINGLE_EXACT) | (single_overlap >= overlap(motion) - tolerance)
                motion = torch.where(simpler[:, None, None, None], single, motion)
    residual_steps = steps // 2 if residual_steps is None else residual_steps
    motion = add_smooth_residual(motion, envelope, known_source, target_mask, residual_steps, coarse_sigma,
                                 compared=compared)
    if guard:
        rigid = single if single is not None else torch.zeros_like(motion)
        motion = fold_free(rigid, motion, target_mask)
    return motion


def single_affine_motion(linear: torch.Tensor, offset: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """The motion L z + b - z of one affine (B, 1, 2, 2), (B, 1, 2) on a grid (R, R, 2)."""
    return torch.einsum("bij,hwj->bhwi", linear[:, 0], grid) + offset[:, 0, None, None, :] - grid


def _mask_loss(warped: torch.Tensor, target: torch.Tensor, compared: torch.Tensor | None) -> torch.Tensor:
    """L_mask (Eq. 9's mask term): mean absolute difference, only where the target side is compared."""
    difference = (warped - target).abs()
    return difference.mean() if compared is None else (difference * compared).mean()


#: The smallest Jacobian determinant the map z + motion may have near the new shape: the content
#: there may be squeezed to a fifth of its area but never folded over itself or mirrored.
MIN_JACOBIAN = 0.2


def jacobian_determinant(motion: torch.Tensor) -> torch.Tensor:
    """det(d(z + motion)/dz) (B, R-1, R-1) by forward differences; motion in grid coordinates."""
    size = motion.shape[1]
    step = 2.0 / size
    d_dx = (motion[:, :-1, 1:] - motion[:, :-1, :-1]) / step
    d_dy = (motion[:, 1:, :-1] - motion[:, :-1, :-1]) / step
    return (1.0 + d_dx[..., 0]) * (1.0 + d_dy[..., 1]) - d_dy[..., 0] * d_dx[..., 1]


def fold_free(rigid: torch.Tensor, motion: torch.Tensor, target_mask: torch.Tensor,
              minimum: float = MIN_JACOBIAN) -> torch.Tensor:
    """``rigid + t (motion - rigid)`` with the largest t in [0, 1] whose map has a Jacobian
    determinant of at least ``minimum`` on and near the new shape (bisection).

    ``rigid`` is one affine's motion (or none) and folds nowhere unless it mirrors; the non-rigid
    part on top of it (the K affines' blend, the residual) is scaled back only as far as needed.
    """
    with torch.no_grad():
        size = motion.shape[1]
        near = F.max_pool2d((target_mask > 0.5).float(), kernel_size=9, stride=1, padding=4)[:, 0, :-1, :-1] > 0

        def worst(candidate: torch.Tensor) -> torch.Tensor:
            determinant = jacobian_determinant(candidate)
            return torch.where(near, determinant, torch.full_like(determinant, math.inf)).flatten(1).amin(dim=1)

        # A strong enlargement squeezes the backward map everywhere: judge only what comes on top.
        minimum = torch.clamp(0.5 * worst(rigid), max=minimum)
        if bool((worst(motion) >= minimum).all()) or size < 2:
            return motion
        low = torch.zeros(motion.shape[0], device=motion.device)
        high = torch.ones(motion.shape[0], device=motion.device)
        for _ in range(12):
            middle = (low + high) / 2
            candidate = rigid + middle[:, None, None, None] * (motion - rigid)
            good = worst(candidate) >= minimum
            low = torch.where(good, middle, low)
            high = torch.where(good, high, middle)
        return rigid + low[:, None, None, None] * (motion - rigid)


def mask_overlap(source_mask: torch.Tensor, target_mask: torch.Tensor, field: torch.Tensor,
                 compared: torch.Tensor | None = None) -> torch.Tensor:
    """IoU (B,) of the source mask warped by ``field`` with the target mask, both thresholded at 1/2
    (only where ``compared`` is at least one half, when given)."""
    warped = warp(source_mask, field) > 0.5
    target = target_mask > 0.5
    if compared is not None:
        inside = compared > 0.5
        warped, target = warped & inside, target & inside
    union = (warped | target).flatten(1).sum(dim=1).clamp_min(1)
    return (warped & target).flatten(1).sum(dim=1) / union


def add_smooth_residual(motion: torch.Tensor, envelope: torch.Tensor, source_mask: torch.Tensor,
                        target_mask: torch.Tensor, steps: int, coarse_sigma: float = 2.0,
                        grid_size: int = RESIDUAL_GRID, smoothness: float = RESIDUAL_SMOOTHNESS,
                        gate: float = RESIDUAL_GATE, compared: torch.Tensor | None = None) -> torch.Tensor:
    """``motion`` plus a smooth displacement fitted on L_mask, for the crops whose masks still miss.

    The field is z + E * motion, with the envelope E (B, R, R, 1): the residual fades with the
    rest of the motion, so where the edit keeps the original nothing moves.
    """
    if steps <= 0:
        return motion
    size = motion.shape[1]
    grid = coordinate_grid(size, motion.device, motion.dtype)
    with torch.no_grad():
        missing = mask_overlap(source_mask, target_mask, grid + envelope * motion, compared) < gate
    if not bool(missing.any()):
        return motion
    residual = torch.zeros(motion.shape[0], 2, grid_size, grid_size, device=motion.device, dtype=motion.dtype,
                           requires_grad=True)
    chosen = missing.to(motion.dtype)[:, None, None, None]  # crops that are already aligned stay as they are

    def corrected() -> torch.Tensor:
        dense = F.interpolate(residual, size=(size, size), mode="bicubic", align_corners=True)
        return motion + chosen * dense.permute(0, 2, 3, 1)

    def loss(source: torch.Tensor, target: torch.Tensor, weight: float) -> torch.Tensor:
        across = residual[..., 1:] - residual[..., :-1]
        down = residual[..., 1:, :] - residual[..., :-1, :]
        value = _mask_loss(warp(source, grid + envelope * corrected()), target, compared)
        return value + weight * (across.pow(2).mean() + down.pow(2).mean())

    minimise_coarse_to_fine([residual], loss, source_mask, target_mask, [(coarse_sigma, smoothness), (0.0, smoothness)],
                            steps)
    with torch.no_grad():
        return corrected()
