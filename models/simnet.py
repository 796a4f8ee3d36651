"""SIM-Net: keypoints -> dilated local warp fields -> attention-fused region transport.

``SimNet(config)(source_mask, target_mask, image, envelope)`` works at the working resolution S on
the square crop around an edit (see ``models.influence.influence_box``). Inputs are float tensors
in [0, 1]: masks (B, 1, S, S), image (B, 3, S, S), and the edit's area of influence (B, 1, S, S)
(``models.influence.influence_envelope``), which the caller computes once from the masks.

Training needs every output of the paper (Eqs. 1-8). The product's inference path needs only the
correspondence (keypoints, Jacobians, attention: Eqs. 1-4) and calls :meth:`SimNet.correspond`,
which stops there: no warped images, no Eq. 5 output.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch
from torch import nn

from models.dilation import local_affine_fields, with_identity
from models.grids import coordinate_grid, warp, warp_each
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
class Correspondence:
    """What the network says about an edit (Eqs. 1-4), at the working resolution."""

    source_keypoints: torch.Tensor  # (B, K, 2)
    target_keypoints: torch.Tensor  # (B, K, 2)
    source_jacobians: torch.Tensor  # (B, K, 2, 2)
    target_jacobians: torch.Tensor  # (B, K, 2, 2)
    #: The K+1 attention maps of Eq. 4 (B, K+1, S, S); map 0 keeps the original.
    attention: torch.Tensor
    #: The keypoints' shares of the envelope (B, K, S, S), summing to one per pixel: attention[:, 1:]
    #: is envelope * keypoint_shares.
    keypoint_shares: torch.Tensor

    def to(self, device: torch.device | str, dtype: torch.dtype = torch.float32) -> "Correspondence":
        """A copy of the correspondence on ``device`` as ``dtype``, outside inference mode (so the
        test-time alignment can take gradients through it)."""
        return Correspondence(**{field.name: getattr(self, field.name).to(device, dtype).clone()
                                 for field in fields(Correspondence)})

    def is_finite(self) -> bool:
        return all(bool(torch.isfinite(getattr(self, field.name)).all()) for field in fields(Correspondence))


@dataclass
class SimNetOutput(Correspondence):
    """Every output of the paper's generator, for training."""

    warp_fields: torch.Tensor  # (B, K+1, S, S, 2): the identity, then the K dilated local affines (Eqs. 1-2)
    fused_field: torch.Tensor  # (B, S, S, 2): Eq. 8
    output: torch.Tensor  # (B, 3, S, S): Eq. 5 on the image
    warped_mask: torch.Tensor  # (B, 1, S, S): the source mask along the fused field
    warped_masks: torch.Tensor  # (B, K, S, S): the source mask along each local field


class SimNet(nn.Module):
    def __init__(self, config: SimNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or SimNetConfig()
        c = self.config
        self.keypoint_detector = KeypointDetector(c.num_keypoints, c.keypoint_width, c.keypoint_depth, c.temperature)
        self.transport = ImageTransport(c.num_keypoints, c.transport_width, c.transport_depth)

    def correspond(self, source_mask: torch.Tensor, target_mask: torch.Tensor,
                   envelope: torch.Tensor) -> Correspondence:
        """Keypoints, Jacobians and attention (Eqs. 1-4): the inference path."""
        return self._correspond(source_mask, target_mask, envelope)[0]

    def _correspond(self, source_mask: torch.Tensor, target_mask: torch.Tensor, envelope: torch.Tensor
                    ) -> tuple[Correspondence, torch.Tensor, torch.Tensor]:
        """The correspondence, the K local fields and the source mask warped along each."""
        size = source_mask.shape[-1]
        batch = source_mask.shape[0]
        # One detector pass for both masks (shared weights).
        keypoints, jacobians, _ = self.keypoint_detector(torch.cat([source_mask, target_mask], dim=0))
        source_keypoints, target_keypoints = keypoints[:batch], keypoints[batch:]
        source_jacobians, target_jacobians = jacobians[:batch], jacobians[batch:]
        local_fields = local_affine_fields(source_keypoints, source_jacobians, target_keypoints,
                                           target_jacobians, size)  # Eqs. 1-2
        warped_masks = warp_each(source_mask, local_fields)[:, :, 0]
        identity = coordinate_grid(size, local_fields.device, local_fields.dtype)
        displacements = (local_fields - identity).permute(0, 1, 4, 2, 3)
        attention, shares = self.transport(source_mask, target_mask, envelope, warped_masks, displacements)  # Eq. 4
        correspondence = Correspondence(source_keypoints, target_keypoints, source_jacobians, target_jacobians,
                                        attention, shares)
        return correspondence, local_fields, warped_masks

    def forward(self, source_mask: torch.Tensor, target_mask: torch.Tensor, image: torch.Tensor,
                envelope: torch.Tensor) -> SimNetOutput:
        correspondence, local_fields, warped_masks = self._correspond(source_mask, target_mask, envelope)
        fields = with_identity(local_fields)
        fused_field = fuse_fields(correspondence.attention, fields)  # Eq. 8
        output = fuse(correspondence.attention, warp_each(image, fields))  # Eq. 5 on the image
        warped_mask = warp(source_mask, fused_field)
        return SimNetOutput(**vars(correspondence), warp_fields=fields, fused_field=fused_field, output=output,
                            warped_mask=warped_mask, warped_masks=warped_masks)
