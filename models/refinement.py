"""Test-time alignment: sharpen the K local affines so the fused field carries y_A exactly onto x_A.

The network predicts keypoints, Jacobians and attention at a small working resolution. Its local
affines are close but rarely sub-pixel exact, and at full resolution a fraction of a working pixel
is several image pixels. Here we keep SIM-Net's structure (K dilated local affines fused by the
network's attention, Eqs. 1-2, 8) and only adjust the 6K affine parameters on the mask-alignment
objective the network was trained with (L_mask), at a finer resolution R, with L-BFGS. The
attention maps stay as the network made them, so the fade to the untouched background does too.
Coarse to fine: the first rounds compare blurred masks, so a start a few pixels off still converges.

K affines cannot follow every reshaping: a brush stroke that bulges one stretch of the outline, or a
region bent unevenly, leaves the warped mask a few pixels off along parts of its boundary. When the
aligned affines still miss the new shape (mask IoU below :data:`RESIDUAL_GATE`), a second stage adds a
smooth residual displacement: a coarse grid of offsets, upsampled bicubically and scaled by the
attention's moved share (so the fade to the untouched background is kept), fitted on the same
L_mask with a first-difference smoothness penalty. This is our addition, not the paper's; the
defaults were chosen on BSDS500 validation photographs (see resources/MODEL.md).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from models.dilation import local_affine_parameters, warp
from models.keypoints import coordinate_grid
from models.simnet import SimNetOutput

#: Pull of the K affines towards their common affine (tuned on BSDS500 val: the surroundings of
#: an edit then follow one coherent motion instead of K extrapolated ones).
DEFAULT_RIGIDITY = 2.0
#: The residual stage runs only when the aligned affines leave the mask IoU below this.
RESIDUAL_GATE = 0.97
#: Offsets per side of the residual's control grid, and the weight of its smoothness penalty.
RESIDUAL_GRID = 12
RESIDUAL_SMOOTHNESS = 3.0


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


def _resize_maps(maps: torch.Tensor, size: int) -> torch.Tensor:
    return F.interpolate(maps, size=(size, size), mode="bilinear", align_corners=False)


def refine_alignment(out: SimNetOutput, source_mask: torch.Tensor, target_mask: torch.Tensor, steps: int = 40,
                     coarse_sigma: float = 2.0, rigidity: float = DEFAULT_RIGIDITY,
                     residual_steps: int | None = None) -> torch.Tensor:
    """The fused backward field (B, R, R, 2) at the masks' resolution R, after ``steps`` of alignment.

    ``source_mask`` and ``target_mask`` are (B, 1, R, R) coverages of the same square crop the
    network saw. With ``steps == 0`` this is the network's own field resampled to R. ``rigidity``
    pulls the K affines towards their attention-weighted mean: of all fields that carry the mask
    onto its new shape, prefer the one that distorts the painting's texture least.
    ``residual_steps`` (default ``steps // 2``; 0 turns it off) bounds the non-rigid residual stage.
    """
    size = source_mask.shape[-1]
    device, dtype = source_mask.device, torch.float32
    with torch.no_grad():
        linear, offset = (value.float() for value in local_affine_parameters(
            out.source_keypoints, out.source_jacobians, out.target_keypoints, out.target_jacobians))
        attention = _resize_maps(out.attention.float(), size)
        attention = attention / attention.sum(dim=1, keepdim=True).clamp_min(1e-6)
        grid = coordinate_grid(size, device, dtype)
        source_mask, target_mask = source_mask.float(), target_mask.float()
        keypoint_attention = attention[:, 1:]  # map 0 keeps the original and needs no parameters
        moved_share = keypoint_attention.sum(dim=1)[..., None]  # (B, R, R, 1)
        # How much each keypoint's field is used on the new shape: the weights of the rigidity term.
        usage = (keypoint_attention * target_mask).sum(dim=(2, 3))
        usage = usage / usage.sum(dim=1, keepdim=True).clamp_min(1e-6)

    def fused(linear: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
        """Eq. 8 over the Eq. 1-2 fields, z + sum_k m_k (L_k z + b_k - z), with the attention mixed
        into the affine parameters first (one small matmul instead of K full fields)."""
        parameters = torch.cat([linear.flatten(2), offset], dim=2)  # (B, K, 6)
        mixed = torch.einsum("bkhw,bkp->bhwp", keypoint_attention, parameters)
        moved = torch.stack([mixed[..., 0] * grid[..., 0] + mixed[..., 1] * grid[..., 1] + mixed[..., 4],
                             mixed[..., 2] * grid[..., 0] + mixed[..., 3] * grid[..., 1] + mixed[..., 5]], dim=-1)
        return grid + moved - moved_share * grid

    if steps <= 0:
        return fused(linear, offset)
    linear = linear.clone().requires_grad_(True)
    offset = offset.clone().requires_grad_(True)
    # Coarse to fine: blurred masks and affines held together first, sharp masks and free affines last.
    levels = [(coarse_sigma * 3, 10 * rigidity + 1.0), (coarse_sigma, rigidity + 0.1), (0.0, rigidity)]
    with torch.enable_grad():
        for sigma, weight in levels:
            source, target = _blur(source_mask, sigma), _blur(target_mask, sigma)
            optimizer = torch.optim.LBFGS([linear, offset], lr=1.0, max_iter=max(1, steps // len(levels)),
                                          history_size=20, line_search_fn="strong_wolfe")

            def closure() -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                loss = (warp(source, fused(linear, offset)) - target).abs().mean()
                if weight > 0:
                    parameters = torch.cat([linear.flatten(2), offset], dim=2)  # (B, K, 6)
                    mean = (usage[..., None] * parameters).sum(dim=1, keepdim=True)
                    loss = loss + weight * (usage * ((parameters - mean) ** 2).sum(dim=2)).sum(dim=1).mean()
                loss.backward()
                return loss

            optimizer.step(closure)
    with torch.no_grad():
        field = fused(linear, offset)
    residual_steps = steps // 2 if residual_steps is None else residual_steps
    return add_smooth_residual(field, moved_share, source_mask, target_mask, residual_steps, coarse_sigma)


def mask_overlap(source_mask: torch.Tensor, target_mask: torch.Tensor, field: torch.Tensor) -> torch.Tensor:
    """IoU (B,) of the source mask warped by ``field`` with the target mask, both thresholded at 1/2."""
    warped = warp(source_mask, field) > 0.5
    target = target_mask > 0.5
    union = (warped | target).flatten(1).sum(dim=1).clamp_min(1)
    return (warped & target).flatten(1).sum(dim=1) / union


def add_smooth_residual(field: torch.Tensor, moved_share: torch.Tensor, source_mask: torch.Tensor,
                        target_mask: torch.Tensor, steps: int, coarse_sigma: float = 2.0,
                        grid_size: int = RESIDUAL_GRID, smoothness: float = RESIDUAL_SMOOTHNESS,
                        gate: float = RESIDUAL_GATE) -> torch.Tensor:
    """``field`` plus a smooth displacement fitted on L_mask, for the crops whose masks still miss.

    ``moved_share`` (B, R, R, 1) is the attention given to the moved fields: the residual is scaled
    by it, so where the network keeps the original (map 0) nothing moves, and the fade is kept.
    """
    if steps <= 0:
        return field
    with torch.no_grad():
        missing = mask_overlap(source_mask, target_mask, field) < gate
    if not bool(missing.any()):
        return field
    size = field.shape[1]
    residual = torch.zeros(field.shape[0], 2, grid_size, grid_size, device=field.device, dtype=field.dtype,
                           requires_grad=True)
    chosen = missing.to(field.dtype)[:, None, None, None]  # crops that are already aligned stay as they are

    def corrected() -> torch.Tensor:
        dense = F.interpolate(residual, size=(size, size), mode="bicubic", align_corners=True)
        return field + chosen * moved_share * dense.permute(0, 2, 3, 1)

    levels = (coarse_sigma, 0.0)
    with torch.enable_grad():
        for sigma in levels:
            source, target = _blur(source_mask, sigma), _blur(target_mask, sigma)
            optimizer = torch.optim.LBFGS([residual], lr=1.0, max_iter=max(1, steps // len(levels)),
                                          history_size=20, line_search_fn="strong_wolfe")

            def closure() -> torch.Tensor:
                optimizer.zero_grad(set_to_none=True)
                across = residual[..., 1:] - residual[..., :-1]
                down = residual[..., 1:, :] - residual[..., :-1, :]
                loss = (warp(source, corrected()) - target).abs().mean()
                loss = loss + smoothness * (across.pow(2).mean() + down.pow(2).mean())
                loss.backward()
                return loss

            optimizer.step(closure)
    with torch.no_grad():
        return corrected()
