"""Shapes and equations of each SIM-Net module (tiny configurations, CPU)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from models.dilation import local_affine_fields, with_identity
from models.grids import coordinate_grid, warp, warp_each
from models.influence import batch_envelopes
from models.keypoints import KeypointDetector
from models.losses import (boundary_loss, contextual_loss, equivariance_loss, field_loss, random_affine,
                           soft_iou)
from models.perceptual import EfficientNetLite0Features, perceptual_distance
from models.simnet import SimNet, SimNetConfig
from models.texture_guidance import fuse_fields, pseudo_ground_truth
from models.transport import confidence_masks, fuse

TINY = SimNetConfig(working_size=32, num_keypoints=4, keypoint_width=8, keypoint_depth=3,
                    transport_width=8, transport_depth=3)


def disc_tensor(size: int, cx: float, cy: float, radius: float) -> torch.Tensor:
    grid = coordinate_grid(size)
    return (((grid[..., 0] - cx) ** 2 + (grid[..., 1] - cy) ** 2) <= radius**2).float()[None, None]


def test_simnet_output_shapes_and_attention_sums_to_one() -> None:
    torch.manual_seed(0)
    model = SimNet(TINY)
    source = disc_tensor(32, -0.2, 0.0, 0.4).repeat(2, 1, 1, 1)
    target = disc_tensor(32, 0.2, 0.1, 0.35).repeat(2, 1, 1, 1)
    envelope = torch.from_numpy(batch_envelopes(source.numpy(), target.numpy()))
    out = model(source, target, torch.rand(2, 3, 32, 32), envelope)
    assert out.source_keypoints.shape == (2, 4, 2) and out.target_jacobians.shape == (2, 4, 2, 2)
    assert out.warp_fields.shape == (2, 5, 32, 32, 2)
    assert out.attention.shape == (2, 5, 32, 32)
    torch.testing.assert_close(out.attention.sum(dim=1), torch.ones(2, 32, 32))
    assert out.fused_field.shape == (2, 32, 32, 2)
    assert out.output.shape == (2, 3, 32, 32) and out.warped_mask.shape == (2, 1, 32, 32)
    torch.testing.assert_close(out.warp_fields[:, 0], coordinate_grid(32).expand(2, -1, -1, -1))


def test_the_inference_path_gives_the_training_paths_correspondence() -> None:
    """``SimNet.correspond`` (the product's path) stops before the warped images but must agree
    with the full forward pass on every quantity it returns."""
    torch.manual_seed(3)
    model = SimNet(TINY).eval()
    source, target = disc_tensor(32, -0.2, 0.0, 0.4), disc_tensor(32, 0.25, 0.1, 0.3)
    envelope = torch.from_numpy(batch_envelopes(source.numpy(), target.numpy()))
    with torch.inference_mode():
        full = model(source, target, torch.rand(1, 3, 32, 32), envelope)
        short = model.correspond(source, target, envelope)
    for name in ("source_keypoints", "target_keypoints", "source_jacobians", "target_jacobians", "attention",
                 "keypoint_shares"):
        torch.testing.assert_close(getattr(short, name), getattr(full, name), atol=0, rtol=0)
    moved = short.to("cpu")
    assert not moved.attention.is_inference() and moved.attention.dtype == torch.float32
    assert moved.is_finite()
    moved.attention[0, 0, 0, 0] = float("nan")
    assert not moved.is_finite()


def test_keypoints_lie_inside_the_frame_and_jacobians_start_at_identity() -> None:
    detector = KeypointDetector(num_keypoints=3, width=8, depth=2)
    keypoints, jacobians, heatmaps = detector(disc_tensor(16, 0.0, 0.0, 0.5))
    assert keypoints.abs().max() <= 1.0
    torch.testing.assert_close(heatmaps.sum(dim=(2, 3)), torch.ones(1, 3))
    torch.testing.assert_close(jacobians, torch.eye(2).expand(1, 3, 2, 2))


def test_identity_edit_gives_identity_warp_fields() -> None:
    keypoints = torch.rand(2, 3, 2) * 2 - 1
    jacobians = torch.eye(2).repeat(2, 3, 1, 1) + 0.1 * torch.randn(2, 3, 2, 2)
    fields = local_affine_fields(keypoints, jacobians, keypoints, jacobians, 8)
    torch.testing.assert_close(fields, coordinate_grid(8).expand(2, 3, -1, -1, -1), atol=1e-5, rtol=0)


def test_dilation_is_equation_one() -> None:
    """w(z) = p_y + J_y J_x^-1 (z - p_x): a translation of the keypoint translates the field."""
    source_keypoints = torch.tensor([[[0.3, -0.2]]])
    target_keypoints = torch.tensor([[[0.1, 0.1]]])
    scale = torch.tensor([[[[2.0, 0.0], [0.0, 0.5]]]])
    fields = local_affine_fields(source_keypoints, scale, target_keypoints, torch.eye(2)[None, None], 4)
    z = coordinate_grid(4)
    expected = source_keypoints[0, 0] + (z - target_keypoints[0, 0]) @ scale[0, 0].T
    torch.testing.assert_close(fields[0, 0], expected)


def test_pure_translation_of_a_mask_is_recovered_by_its_warp() -> None:
    """Warping the source mask by the field that maps target keypoints to source keypoints
    reproduces the translated (target) mask."""
    source = disc_tensor(32, -0.25, 0.0, 0.35)
    target = disc_tensor(32, 0.25, 0.0, 0.35)
    shift = torch.tensor([[[-0.5, 0.0]]])
    fields = local_affine_fields(torch.zeros(1, 1, 2) + shift, torch.eye(2)[None, None],
                                 torch.zeros(1, 1, 2), torch.eye(2)[None, None], 32)
    warped = warp(source, fields[:, 0])
    assert soft_iou((warped > 0.5).float(), target).item() > 0.97


def test_confidence_fusion_and_pseudo_ground_truth() -> None:
    target = torch.ones(1, 1, 4, 4)
    warped = torch.zeros(1, 2, 4, 4)
    torch.testing.assert_close(confidence_masks(target, warped), torch.ones(1, 2, 4, 4))  # Eq. 3
    attention = torch.zeros(1, 2, 4, 4)
    attention[:, 1] = 1.0
    images = torch.stack([torch.zeros(1, 3, 4, 4), torch.ones(1, 3, 4, 4)], dim=1)
    torch.testing.assert_close(fuse(attention, images), torch.ones(1, 3, 4, 4))  # Eq. 5
    fields = with_identity(torch.zeros(1, 1, 4, 4, 2))
    fused = fuse_fields(attention, fields)  # Eq. 8
    torch.testing.assert_close(fused, torch.zeros(1, 4, 4, 2))
    image = torch.rand(1, 3, 4, 4)
    identity = fuse_fields(torch.ones(1, 1, 4, 4), with_identity(torch.zeros(1, 0, 4, 4, 2)))
    torch.testing.assert_close(pseudo_ground_truth(image, identity), image)  # Eq. 7, identity field


def test_warp_each_matches_single_warps() -> None:
    image = torch.rand(2, 3, 8, 8)
    fields = coordinate_grid(8)[None, None].repeat(2, 3, 1, 1, 1) + 0.1 * torch.randn(2, 3, 8, 8, 2)
    each = warp_each(image, fields)
    torch.testing.assert_close(each[:, 1], warp(image, fields[:, 1]))


def test_losses() -> None:
    mask = disc_tensor(16, 0.0, 0.0, 0.5)
    assert boundary_loss(mask[:, :1].repeat(1, 3, 1, 1), mask).item() == pytest.approx(0.0, abs=1e-6)
    assert boundary_loss(torch.zeros(1, 3, 16, 16), mask).item() == pytest.approx(1.0, abs=1e-4)
    grid = coordinate_grid(16)[None]
    assert field_loss(grid, grid).item() == 0.0
    assert field_loss(grid + 2.0 / 16, grid).item() == pytest.approx(2.0, rel=1e-5)  # one pixel in x and y
    features = torch.rand(1, 8, 4, 4)
    assert contextual_loss(features, features).item() < contextual_loss(torch.rand(1, 8, 4, 4), features).item()


def test_equivariance_loss_is_zero_for_an_equivariant_detector() -> None:
    """The centroid of the mask (with identity Jacobians) is exactly equivariant to translations."""

    def centroid_detector(mask: torch.Tensor):
        grid = coordinate_grid(mask.shape[-1])
        weights = mask[:, 0] / mask[:, 0].sum(dim=(1, 2), keepdim=True)
        keypoints = (weights[..., None] * grid).sum(dim=(1, 2))[:, None]
        return keypoints, torch.eye(2).expand(mask.shape[0], 1, 2, 2), None

    mask = disc_tensor(64, 0.0, 0.0, 0.3)
    keypoints, jacobians, _ = centroid_detector(mask)
    translation = torch.tensor([[[1.0, 0.0, 0.25], [0.0, 1.0, -0.125]]])
    assert equivariance_loss(centroid_detector, mask, keypoints, jacobians, translation).item() < 2e-3
    shear = random_affine(1, 0.3, torch.Generator().manual_seed(1))
    assert equivariance_loss(centroid_detector, mask, keypoints, jacobians, shear).item() > 1e-2


def test_perceptual_features_come_from_shipped_imagenet_weights() -> None:
    network = EfficientNetLite0Features()
    image = torch.rand(1, 3, 32, 32)
    shapes = [tuple(f.shape[1:]) for f in network(image)]
    assert shapes == [(16, 16, 16), (24, 8, 8), (40, 4, 4)]
    assert perceptual_distance(network, image, image).item() == 0.0
    assert perceptual_distance(network, image, torch.rand(1, 3, 32, 32)).item() > 0.0
