"""SIM-Net's training losses (Eq. 10) and the direct supervision our synthetic pairs allow.

All take working-resolution tensors. Fields are grid_sample grids; field errors are measured in
working pixels (normalised units times S/2).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from models.grids import warp


def field_loss(predicted: torch.Tensor, true: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """L1 end-point error between backward fields (B, S, S, 2), in working pixels."""
    error = (predicted - true).abs().sum(dim=-1) * (predicted.shape[1] / 2.0)
    if weight is None:
        return error.mean()
    return (error * weight).sum() / weight.sum().clamp_min(1.0)


def soft_iou(first: torch.Tensor, second: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Soft intersection-over-union of masks in [0, 1], over the last two dimensions."""
    intersection = torch.minimum(first, second).sum(dim=(-2, -1))
    union = torch.maximum(first, second).sum(dim=(-2, -1))
    return (intersection + eps) / (union + eps)


def boundary_loss(warped_masks: torch.Tensor, target_mask: torch.Tensor) -> torch.Tensor:
    """Eq. 6, L_bound: 1 - IoU between each locally warped source mask w^i(y_A) and x_A."""
    return (1.0 - soft_iou(warped_masks, target_mask)).mean()


def mask_loss(warped_mask: torch.Tensor, target_mask: torch.Tensor) -> torch.Tensor:
    """L_mask: the source mask warped by the fused field should be the target mask."""
    return F.l1_loss(warped_mask, target_mask)


def reconstruction_loss(prediction: torch.Tensor, target: torch.Tensor, weight: torch.Tensor | None = None) -> torch.Tensor:
    """L_rec: (optionally weighted) L1 between images."""
    error = (prediction - target).abs().mean(dim=1, keepdim=True)
    if weight is None:
        return error.mean()
    return (error * weight).sum() / weight.sum().clamp_min(1.0)


def random_affine(batch: int, strength: float, generator: torch.Generator | None = None,
                  device: torch.device | None = None) -> torch.Tensor:
    """Random (B, 2, 3) affines near the identity, for the equivariance loss."""
    noise = torch.randn(batch, 2, 3, generator=generator) * strength
    identity = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return (identity + noise).to(device)


def equivariance_loss(detector, mask: torch.Tensor, keypoints: torch.Tensor, jacobians: torch.Tensor,
                      affine: torch.Tensor) -> torch.Tensor:
    """L_eq (as in first-order-motion): detecting on a transformed mask must transform the keypoints.

    The mask is resampled by z -> T(z) = A z + b, so its keypoints p' satisfy T(p') = p and its
    Jacobians A J' = J.
    """
    grid = F.affine_grid(affine, list(mask.shape), align_corners=False)
    transformed = F.grid_sample(mask, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    moved_keypoints, moved_jacobians, _ = detector(transformed)
    linear, offset = affine[:, None, :, :2], affine[:, None, :, 2]
    mapped = (linear @ moved_keypoints[..., None])[..., 0] + offset
    keypoint_term = (mapped - keypoints).abs().mean()
    jacobian_term = (linear @ moved_jacobians - jacobians).abs().mean()
    return keypoint_term + jacobian_term


def contextual_loss(prediction_features: torch.Tensor, target_features: torch.Tensor,
                    bandwidth: float = 0.5, eps: float = 1e-5) -> torch.Tensor:
    """Eq. 9, L_context (Mechrez et al.): -log of the contextual similarity of two feature maps."""
    batch, channels = prediction_features.shape[:2]
    mean = target_features.mean(dim=(2, 3), keepdim=True)
    x = F.normalize((prediction_features - mean).flatten(2), dim=1)  # (B, C, N)
    y = F.normalize((target_features - mean).flatten(2), dim=1)
    distance = 1.0 - torch.bmm(y.transpose(1, 2), x)  # (B, N_y, N_x)
    relative = distance / (distance.min(dim=1, keepdim=True).values + eps)
    weights = torch.exp((1.0 - relative) / bandwidth)
    similarity = weights / weights.sum(dim=1, keepdim=True)
    contextual = similarity.max(dim=2).values.mean(dim=1)
    return -torch.log(contextual + eps).mean()


def cycle_loss(model, output_image: torch.Tensor, source_mask: torch.Tensor, target_mask: torch.Tensor,
               image: torch.Tensor, envelope: torch.Tensor) -> torch.Tensor:
    """L_cyc: swap the masks, use the edited image as exemplar, and ask for the original back
    (measured on and near the source region). The area of influence is symmetric in the two masks,
    so the forward edit's ``envelope`` serves the way back too."""
    back = model(target_mask, source_mask, output_image, envelope)
    restored = warp(output_image, back.fused_field)
    weight = F.max_pool2d(source_mask, 5, stride=1, padding=2)
    return reconstruction_loss(restored, image, weight)
