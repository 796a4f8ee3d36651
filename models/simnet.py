"""SIM-Net: keypoints -> dilated local warp fields -> attention-fused region transport.

``SimNet(config)(source_mask, target_mask, image)`` works at the working resolution S on the square
crop around an edit (see ``models.influence.influence_box``). Inputs are float tensors in [0, 1]:
masks (B, 1, S, S), image (B, 3, S, S). See docs/ARCHITECTURE.md for the outputs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from models.dilation import influence_envelope, local_affine_fields, with_identity
from models.grids import warp, warp_each
from models.keypoints import KeypointDetector
from models.texture_guidance import fuse_fields
from models.transport import ImageTransport, fuse


@dataclass(frozen=True)
class SimNetConfig:
    working_size: int = 64
    num_keypoints: int = 10
    keypoint_width: int = 16
    keypoint_depth: int = 4
    transport_width: int = 16
    transport_depth: int = 4
    temperature: float = 0.1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "SimNetConfig":
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        return cls(**known)


@dataclass
class SimNetOutput:
    source_keypoints: torch.Tensor
    target_keypoints: torch.Tensor
    source_jacobians: torch.Tensor
    target_jacobians: torch.Tensor
    warp_fields: torch.Tensor
    attention: torch.Tensor
    fused_field: torch.Tensor
    output: torch.Tensor
    warped_mask: torch.Tensor
    warped_masks: torch.Tensor
    #: The keypoints' shares of the envelope (B, K, S, S), summing to one per pixel: attention[:, 1:]
    #: is envelope * keypoint_shares.
    keypoint_shares: torch.Tensor


class SimNet(nn.Module):
    def __init__(self, config: SimNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or SimNetConfig()
        c = self.config
        self.keypoint_detector = KeypointDetector(c.num_keypoints, c.keypoint_width, c.keypoint_depth, c.temperature)
        self.transport = ImageTransport(c.num_keypoints, c.transport_width, c.transport_depth)

    def forward(self, source_mask: torch.Tensor, target_mask: torch.Tensor, image: torch.Tensor) -> SimNetOutput:
        size = source_mask.shape[-1]
        batch = source_mask.shape[0]
        # One detector pass for both masks (shared weights).
        keypoints, jacobians, _ = self.keypoint_detector(torch.cat([source_mask, target_mask], dim=0))
        source_keypoints, target_keypoints = keypoints[:batch], keypoints[batch:]
        source_jacobians, target_jacobians = jacobians[:batch], jacobians[batch:]
        local_fields = local_affine_fields(source_keypoints, source_jacobians, target_keypoints,
                                           target_jacobians, size)  # Eqs. 1-2
        envelope = influence_envelope(source_mask, target_mask)
        fields = with_identity(local_fields)
        warped_masks = warp_each(source_mask, local_fields)[:, :, 0]
        identity = fields[:, :1]
        displacements = (local_fields - identity).permute(0, 1, 4, 2, 3)
        attention, shares = self.transport(source_mask, target_mask, envelope, warped_masks, displacements)  # Eq. 4
        fused_field = fuse_fields(attention, fields)  # Eq. 8
        warped_images = warp_each(image, fields)
        output = fuse(attention, warped_images)  # Eq. 5 on the image
        warped_mask = warp(source_mask, fused_field)
        return SimNetOutput(source_keypoints, target_keypoints, source_jacobians, target_jacobians, fields,
                            attention, fused_field, output, warped_mask, warped_masks, shares)
