"""Test-time alignment of the local affines (models/refinement.py)."""
from __future__ import annotations

import torch

from models.dilation import local_affine_fields, local_affine_parameters, with_identity
from models.grids import coordinate_grid, warp, warp_each
from models.influence import batch_envelopes
from models.losses import soft_iou
from models.refinement import add_smooth_residual, mask_overlap, refine_alignment
from models.simnet import SimNet, SimNetConfig, SimNetOutput
from models.texture_guidance import fuse_fields

TINY = SimNetConfig(working_size=32, num_keypoints=4, keypoint_width=8, keypoint_depth=3,
                    transport_width=8, transport_depth=3)


def disc(size: int, cx: float, cy: float, radius: float, squash: float = 1.0) -> torch.Tensor:
    grid = coordinate_grid(size)
    return (((grid[..., 0] - cx) ** 2 + ((grid[..., 1] - cy) * squash) ** 2) <= radius**2).float()[None, None]


def envelope_of(source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(batch_envelopes(source.numpy(), target.numpy()))


def still_output(source: torch.Tensor, target: torch.Tensor, keypoints: int = 3) -> SimNetOutput:
    """What an untrained network might say: every keypoint at the centre with an identity affine,
    the area of influence shared evenly between the keypoints."""
    size = source.shape[-1]
    points = torch.zeros(1, keypoints, 2)
    jacobians = torch.eye(2).repeat(1, keypoints, 1, 1)
    fields = with_identity(local_affine_fields(points, jacobians, points, jacobians, size))
    envelope = envelope_of(source, target)
    shares = torch.full((1, keypoints, size, size), 1.0 / keypoints)
    attention = torch.cat([1 - envelope, envelope * shares], dim=1)
    fused = fuse_fields(attention, fields)
    return SimNetOutput(source_keypoints=points, target_keypoints=points, source_jacobians=jacobians,
                        target_jacobians=jacobians, attention=attention, keypoint_shares=shares, warp_fields=fields,
                        fused_field=fused, output=source.expand(-1, 3, -1, -1), warped_mask=warp(source, fused),
                        warped_masks=warp_each(source, fields[:, 1:])[:, :, 0])


def test_zero_steps_give_the_networks_own_field() -> None:
    torch.manual_seed(0)
    source, target = disc(32, -0.2, 0.0, 0.4), disc(32, 0.2, 0.1, 0.35)
    envelope = envelope_of(source, target)
    out = SimNet(TINY)(source, target, torch.rand(1, 3, 32, 32), envelope)
    torch.testing.assert_close(refine_alignment(out, source, target, envelope, steps=0), out.fused_field, atol=1e-5,
                               rtol=0)


def test_local_affine_parameters_are_equation_one_expanded() -> None:
    torch.manual_seed(1)
    source, target = disc(32, -0.2, 0.0, 0.4), disc(32, 0.2, 0.1, 0.35)
    out = SimNet(TINY)(source, target, torch.rand(1, 3, 32, 32), envelope_of(source, target))
    linear, offset = local_affine_parameters(out.source_keypoints, out.source_jacobians, out.target_keypoints,
                                             out.target_jacobians)
    grid = coordinate_grid(32)
    rebuilt = torch.einsum("bkij,hwj->bkhwi", linear, grid) + offset[:, :, None, None, :]
    torch.testing.assert_close(rebuilt, out.warp_fields[:, 1:], atol=1e-4, rtol=0)


def test_alignment_recovers_a_move_and_a_squash_from_a_still_start() -> None:
    size = 64
    source = disc(size, -0.2, 0.0, 0.3)
    target = disc(size, 0.15, 0.05, 0.3, squash=1.4)  # moved right and down, squashed vertically
    out = still_output(source, target)
    before = soft_iou(warp(source, out.fused_field), target).item()
    field = refine_alignment(out, source, target, envelope_of(source, target), steps=60)
    after = soft_iou((warp(source, field) > 0.5).float(), target).item()
    assert before < 0.5 and after > 0.92  # what 64-pixel binary discs allow
    # At the target's centre the backward field points at the source's centre...
    row, column = int((0.05 + 1) * size / 2), int((0.15 + 1) * size / 2)
    torch.testing.assert_close(field[0, row, column], torch.tensor([-0.2, 0.0]), atol=0.04, rtol=0)
    # ...and it stretches the squashed axis back by 1.4 (one pixel step is 2 / size).
    stretch = (field[0, row + 4, column, 1] - field[0, row - 4, column, 1]) / (8 * 2 / size)
    assert abs(stretch.item() - 1.4) < 0.1


def test_residual_stage_follows_a_bulge_that_no_affine_explains() -> None:
    size = 64
    source = disc(size, 0.0, 0.0, 0.35)
    target = torch.maximum(source, disc(size, 0.3, 0.0, 0.18))  # one stretch of the outline pushed out
    out = still_output(source, target)
    affines_only = refine_alignment(out, source, target, envelope_of(source, target), steps=60, residual_steps=0)
    with_residual = refine_alignment(out, source, target, envelope_of(source, target), steps=60)
    before = mask_overlap(source, target, affines_only).item()
    after = mask_overlap(source, target, with_residual).item()
    assert before < 0.95 and after > before + 0.02


def test_residual_stage_leaves_an_aligned_field_alone() -> None:
    size = 48
    source = disc(size, 0.0, 0.0, 0.3)
    still = torch.zeros(1, size, size, 2)
    envelope = torch.ones(1, size, size, 1)
    assert mask_overlap(source, source, coordinate_grid(size)[None]).item() == 1.0
    torch.testing.assert_close(add_smooth_residual(still, envelope, source, source, steps=30), still)


def test_one_affine_is_kept_when_it_explains_the_masks() -> None:
    """A move and a squash is one affine: every moved point of the field then follows that affine,
    even where the network's keypoints disagree and share the area between them."""
    size = 64
    source = disc(size, -0.2, 0.0, 0.3)
    target = disc(size, 0.15, 0.05, 0.3, squash=1.4)
    out = still_output(source, target, keypoints=3)
    grid = coordinate_grid(size)
    logits = torch.stack([4 * grid[..., 0], -4 * grid[..., 0], 4 * grid[..., 1]])[None]  # left, right, down
    envelope = 1 - out.attention[:, :1]
    out.keypoint_shares = torch.softmax(logits, dim=1)
    out.attention = torch.cat([out.attention[:, :1], envelope * out.keypoint_shares], dim=1)
    out.source_keypoints = torch.tensor([[[-0.3, 0.0], [0.0, 0.1], [0.1, -0.2]]])  # three different starts
    share = out.attention[0, 1:].sum(dim=0)
    full = share >= 0.999
    points = torch.cat([grid[full], torch.ones(int(full.sum()), 1)], dim=1)

    def distance_from_one_affine(field: torch.Tensor) -> float:
        solution = torch.linalg.lstsq(points, field[0][full]).solution
        return (points @ solution - field[0][full]).abs().max().item()

    assert distance_from_one_affine(refine_alignment(out, source, target, envelope_of(source, target), steps=60, residual_steps=0)) < 1e-4
    free = refine_alignment(out, source, target, envelope_of(source, target), steps=60, residual_steps=0, single_tolerance=None)
    assert distance_from_one_affine(free) > 1e-3


def test_a_finer_judge_keeps_the_one_affine_without_the_k_affines_or_the_residual() -> None:
    """``exact`` (the engine's judge on the full-resolution masks) is asked about the one shared
    affine; when it says the move is exact, neither the K affines nor the residual change it, and
    when it says no, the alignment is what it is without a judge."""
    size = 64
    source = disc(size, 0.0, 0.0, 0.35)
    target = torch.maximum(source, disc(size, 0.3, 0.0, 0.18))  # a bulge: no affine explains it
    out = still_output(source, target)
    envelope = envelope_of(source, target)
    asked: list[torch.Tensor] = []

    def says(answer: bool):
        def judge(motion: torch.Tensor) -> bool:
            asked.append(motion)
            return answer
        return judge

    kept = refine_alignment(out, source, target, envelope, steps=60, exact=says(True))
    assert len(asked) == 1
    single = asked[0]
    grid = coordinate_grid(size)
    torch.testing.assert_close(kept, grid + envelope.permute(0, 2, 3, 1) * single)
    unjudged = refine_alignment(out, source, target, envelope, steps=60)
    refused = refine_alignment(out, source, target, envelope, steps=60, exact=says(False))
    torch.testing.assert_close(refused, unjudged)
    assert mask_overlap(source, target, unjudged).item() > mask_overlap(source, target, kept).item() + 0.01
