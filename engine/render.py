"""Full-resolution rendering of a warp field: transport the artwork's own pixels inside a box.

The network's fused field (Eq. 8) lives on a coarse S x S grid over the square crop around the
edit. Both renderers upsample its displacement bilinearly to the box's full resolution and sample
the box once (the artwork as ``resampling`` says, see RESAMPLING; the masks and the matte bilinearly);
pixels moved by less than :data:`STILL_DISPLACEMENT` are reported as not moved so the
caller keeps them bit-identical. Samples are clamped to the box: an edit reads only its own area.

With an ``envelope`` (the edit's fade drawn at the box's full resolution), the coarse grid holds
the motion before the fade and each pixel's displacement is envelope * motion: the fade, and the
edge of the area that moves at all, are then exact to the pixel rather than upsampled.
"""
from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

#: Displacements below this (pixels) count as "not moved": the input pixel is copied unchanged.
STILL_DISPLACEMENT = 1.0 / 256.0

Square = tuple[int, int, int]
Box = tuple[int, int, int, int]


class RenderOutput(NamedTuple):
    """What a renderer gives, over its window (the box unless a smaller window was asked for)."""

    patch: np.ndarray  # the image's pixels read along the map, the image's dtype, (h, w, C)
    mask: np.ndarray  # bool: the region read along the map (where it lands)
    moved: np.ndarray  # bool: pixels displaced by at least STILL_DISPLACEMENT
    carried: np.ndarray | None = None  # float32: the ``carry`` plane read along the map, if one was given


def grid_positions(xs: np.ndarray, ys: np.ndarray, square: Square, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Working-grid coordinates (align_corners=False, float32) of full-resolution pixel columns ``xs``
    and rows ``ys`` of the square (x0, y0, side) resampled to ``size`` cells a side."""
    x0, y0, side = square
    return (((xs - x0 + 0.5) * (size / side) - 0.5).astype(np.float32, copy=False),
            ((ys - y0 + 0.5) * (size / side) - 0.5).astype(np.float32, copy=False))


def _box_positions(square: Square, box: Box, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Working-grid coordinates of the box's full-resolution pixel centres."""
    bx0, by0, bx1, by1 = box
    return grid_positions(np.arange(bx0, bx1, dtype=np.float32), np.arange(by0, by1, dtype=np.float32), square, size)


def sample_motion(displacement: np.ndarray, square: Square, xs: np.ndarray, ys: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The working-grid displacement (S, S, 2) bilinearly at the full-resolution pixel columns ``xs``
    and rows ``ys``: (dx, dy), each (len(ys), len(xs)) float32; borders replicated."""
    grid_x, grid_y = np.meshgrid(*grid_positions(xs, ys, square, displacement.shape[0]))
    # One channel at a time keeps every full-resolution array contiguous (8K boxes: tens of megapixels).
    return tuple(cv2.remap(np.ascontiguousarray(displacement[..., axis], dtype=np.float32), grid_x, grid_y,
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for axis in (0, 1))


#: How the artwork is read along the motion: "bilinear" (the default) or "bicubic" (OpenCV's and torch's
#: a = -0.75, Photoshop's default for transforms). Rotating and scaling (5-40 degrees, 0.8-1.5x) 40 BSDS500
#: val photos at half size, against the full-size photo warped and reduced: bicubic 32.43 dB against 31.14
#: inside the picture, and 0.76 of the truth's fine detail (mean |Laplacian|) against 0.58; a chain of
#: small edits compounds the difference. Bilinear stays the default: a synthetic edit's truth made with a
#: bilinear warp (OpenCV's default, and this project's evaluation) scores bicubic 27-52 dB away from it on
#: the shared paintings, which a comparison with registration would count as a wrong motion
#: (``tools/resampling_check.py``).
RESAMPLING: dict[str, tuple[int, str]] = {"bilinear": (cv2.INTER_LINEAR, "bilinear"),
                                          "bicubic": (cv2.INTER_CUBIC, "bicubic")}


def check_resampling(resampling: str) -> str:
    """``resampling`` when it names one of :data:`RESAMPLING`; else a ValueError naming them."""
    if resampling not in RESAMPLING:
        raise ValueError(f"unknown resampling {resampling!r}; expected one of {', '.join(RESAMPLING)}")
    return resampling


def _window(box: Box, window: Box | None) -> Box:
    """The part of ``box`` to render (all of it by default); a window must lie within the box."""
    if window is None:
        return box
    if not (box[0] <= window[0] <= window[2] <= box[2] and box[1] <= window[1] <= window[3] <= box[3]):
        raise ValueError(f"render window {window} is not within the box {box}")
    return window


def render_cv2(image_box: np.ndarray, source_box: np.ndarray, displacement: np.ndarray,
               square: Square, box: Box, device: torch.device, envelope: np.ndarray | None = None, *,
               window: Box | None = None, carry: np.ndarray | None = None, resampling: str = "bilinear"
               ) -> RenderOutput:
    """CPU renderer: bilinear upsampling of the displacement, then one remap of the box.

    ``image_box`` and ``source_box`` (and ``carry``, a float plane carried along the same map, read
    as 0 past the box: a matte must not be smeared along a map that leaves the picture) cover
    ``box`` and are what is read; only the pixels of ``window`` (canvas coordinates, within the box;
    the envelope, if any, over it) are rendered, so a layer that lands on part of a large box costs
    that part only."""
    bx0, by0 = box[0], box[1]
    wx0, wy0, wx1, wy1 = _window(box, window)
    full_x, full_y = sample_motion(displacement, square, np.arange(wx0, wx1, dtype=np.float32),
                                   np.arange(wy0, wy1, dtype=np.float32))
    if envelope is not None:
        full_x *= envelope
        full_y *= envelope
    moved = (np.abs(full_x) >= STILL_DISPLACEMENT) | (np.abs(full_y) >= STILL_DISPLACEMENT)
    full_x += np.arange(wx0 - bx0, wx1 - bx0, dtype=np.float32)[None, :]  # now the sample positions
    full_y += np.arange(wy0 - by0, wy1 - by0, dtype=np.float32)[:, None]
    read = lambda plane, interpolation: cv2.remap(plane, full_x, full_y, interpolation,  # noqa: E731
                                                  borderMode=cv2.BORDER_REPLICATE)
    patch = read(np.ascontiguousarray(image_box), RESAMPLING[check_resampling(resampling)][0])
    mask_patch = read(source_box.astype(np.uint8) * np.uint8(255), cv2.INTER_LINEAR) >= 128
    carried = None if carry is None else cv2.remap(np.ascontiguousarray(carry, dtype=np.float32), full_x, full_y,
                                                   cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return RenderOutput(patch[..., None] if patch.ndim == 2 else patch, mask_patch, moved, carried)


def render_torch(image_box: np.ndarray, source_box: np.ndarray, displacement: np.ndarray,
                 square: Square, box: Box, device: torch.device, envelope: np.ndarray | None = None, *,
                 window: Box | None = None, carry: np.ndarray | None = None, resampling: str = "bilinear"
                 ) -> RenderOutput:
    """GPU renderer: the same maths as :func:`render_cv2` in grid_sample passes on ``device`` (the artwork
    as ``resampling`` says, the mask bilinearly, in a pass of its own)."""
    size = displacement.shape[0]
    height, width = image_box.shape[:2]
    bx0, by0 = box[0], box[1]
    wx0, wy0, wx1, wy1 = _window(box, window)
    xs, ys = _box_positions(square, (wx0, wy0, wx1, wy1), size)
    to_norm = lambda coords: (2.0 * coords + 1.0) / size - 1.0  # noqa: E731 - working px -> [-1, 1]
    grid_y, grid_x = torch.meshgrid(to_norm(torch.from_numpy(ys)), to_norm(torch.from_numpy(xs)), indexing="ij")
    positions = torch.stack([grid_x, grid_y], dim=-1)[None].to(device)
    field = torch.from_numpy(displacement.transpose(2, 0, 1).copy())[None].to(device)
    full = F.grid_sample(field, positions, mode="bilinear", padding_mode="border", align_corners=False)[0]
    if envelope is not None:
        full = full * torch.from_numpy(np.ascontiguousarray(envelope, dtype=np.float32))[None].to(device)
    moved = full.abs().amax(dim=0) >= STILL_DISPLACEMENT
    pixel_y, pixel_x = torch.meshgrid(torch.arange(wy0 - by0, wy1 - by0, device=device, dtype=torch.float32),
                                      torch.arange(wx0 - bx0, wx1 - bx0, device=device, dtype=torch.float32),
                                      indexing="ij")
    sample = torch.stack([(2.0 * (pixel_x + full[0]) + 1.0) / width - 1.0,
                          (2.0 * (pixel_y + full[1]) + 1.0) / height - 1.0], dim=-1)[None]
    planes = torch.from_numpy(np.ascontiguousarray(image_box).astype(np.float32).transpose(2, 0, 1))[None].to(device)
    sampled = F.grid_sample(planes, sample, mode=RESAMPLING[check_resampling(resampling)][1], padding_mode="border",
                            align_corners=False)[0]
    mask_plane = torch.from_numpy(source_box.astype(np.float32))[None, None].to(device)
    mask_sampled = F.grid_sample(mask_plane, sample, mode="bilinear", padding_mode="border", align_corners=False)[0, 0]
    top = float(np.iinfo(image_box.dtype).max)
    patch = sampled.round().clamp(0, top).permute(1, 2, 0).cpu().numpy().astype(image_box.dtype)
    carried = None
    if carry is not None:  # zero past the box, as the CPU renderer's constant border
        plane = torch.from_numpy(np.ascontiguousarray(carry, dtype=np.float32))[None, None].to(device)
        carried = F.grid_sample(plane, sample, mode="bilinear", padding_mode="zeros",
                                align_corners=False)[0, 0].cpu().numpy()
    return RenderOutput(patch, (mask_sampled >= 0.5).cpu().numpy(), moved.cpu().numpy(), carried)
