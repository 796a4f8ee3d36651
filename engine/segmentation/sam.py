"""Segment Anything through the ``segment-anything`` package, from a checkpoint the user gives.

The architecture is read from the state dict itself (embedding width, depth, heads from the
relative-position tables, which blocks attend globally, input size), not from the file name, so
vit_b, vit_l, vit_h and smaller custom models load through the same code. The image embedding is
computed once per image and reused by every click until the image changes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from engine.checkpoint import load_torch_file
from engine.errors import SegmentationError
from engine.segmentation.base import (Box, MaskPrediction, Point, Progress, as_rgb8, check_prompts, image_key,
                                      without_answer_specks)
from engine.segmentation.snapping import EdgeSnapper

#: SAM's working size (long side, pixels).
SAM_SIDE = 1024
KNOWN_TYPES = {(768, 12): "vit_b", (1024, 24): "vit_l", (1280, 32): "vit_h"}
REQUIRED_KEYS = ("image_encoder.patch_embed.proj.weight", "image_encoder.pos_embed", "image_encoder.neck.0.weight",
                 "prompt_encoder.point_embeddings.0.weight", "mask_decoder.iou_token.weight")


@dataclass(frozen=True)
class SamArchitecture:
    model_type: str
    embed_dim: int
    depth: int
    num_heads: int
    global_attn_indexes: tuple[int, ...]
    window_size: int
    image_size: int
    patch_size: int
    prompt_dim: int
    decoder_depth: int
    decoder_mlp_dim: int


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    state = load_torch_file(path, "SAM checkpoint", SegmentationError)
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]
    if not isinstance(state, dict) or not all(key in state for key in REQUIRED_KEYS):
        raise SegmentationError(f"{path} is not a Segment Anything state dict")
    return state


def detect_architecture(state: dict[str, torch.Tensor]) -> SamArchitecture:
    """Read the model's hyper-parameters off its weights."""
    try:
        patch = state["image_encoder.patch_embed.proj.weight"]
        embed_dim, patch_size = int(patch.shape[0]), int(patch.shape[-1])
        grid = int(state["image_encoder.pos_embed"].shape[1])
        blocks = sorted({int(m.group(1)) for key in state if (m := re.match(r"image_encoder\.blocks\.(\d+)\.", key))})
        depth = len(blocks)
        if depth == 0 or blocks != list(range(depth)):
            raise ValueError("image encoder blocks are missing")
        table_sizes = [int(state[f"image_encoder.blocks.{i}.attn.rel_pos_h"].shape[0]) for i in blocks]
        head_dim = int(state["image_encoder.blocks.0.attn.rel_pos_h"].shape[1])
        global_size = 2 * grid - 1
        global_attn = tuple(i for i, size in zip(blocks, table_sizes) if size == global_size)
        windowed = {size for size in table_sizes if size != global_size}
        if len(windowed) > 1 or embed_dim % head_dim:
            raise ValueError("inconsistent attention tables")
        window_size = (windowed.pop() + 1) // 2 if windowed else 0
        prompt_dim = int(state["image_encoder.neck.0.weight"].shape[0])
        decoder_layers = {int(m.group(1)) for key in state
                          if (m := re.match(r"mask_decoder\.transformer\.layers\.(\d+)\.", key))}
        decoder_mlp_dim = int(state["mask_decoder.transformer.layers.0.mlp.lin1.weight"].shape[0])
    except (KeyError, IndexError, ValueError) as error:
        raise SegmentationError(f"unknown or inconsistent SAM model type ({error})") from None
    model_type = KNOWN_TYPES.get((embed_dim, depth), "custom")
    return SamArchitecture(model_type, embed_dim, depth, embed_dim // head_dim, global_attn, window_size,
                           grid * patch_size, patch_size, prompt_dim, len(decoder_layers), decoder_mlp_dim)


def build_sam(architecture: SamArchitecture):
    """A Segment Anything model with the given architecture, from segment-anything's own classes."""
    from segment_anything.modeling import ImageEncoderViT, MaskDecoder, PromptEncoder, Sam, TwoWayTransformer

    a = architecture
    embedding_size = a.image_size // a.patch_size
    return Sam(
        image_encoder=ImageEncoderViT(
            depth=a.depth, embed_dim=a.embed_dim, img_size=a.image_size, mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=a.num_heads, patch_size=a.patch_size,
            qkv_bias=True, use_rel_pos=True, global_attn_indexes=a.global_attn_indexes, window_size=a.window_size,
            out_chans=a.prompt_dim),
        prompt_encoder=PromptEncoder(embed_dim=a.prompt_dim, image_embedding_size=(embedding_size, embedding_size),
                                     input_image_size=(a.image_size, a.image_size), mask_in_chans=16),
        mask_decoder=MaskDecoder(num_multimask_outputs=3,
                                 transformer=TwoWayTransformer(depth=a.decoder_depth, embedding_dim=a.prompt_dim,
                                                               mlp_dim=a.decoder_mlp_dim, num_heads=8),
                                 transformer_dim=a.prompt_dim, iou_head_depth=3, iou_head_hidden_dim=256),
        pixel_mean=[123.675, 116.28, 103.53], pixel_std=[58.395, 57.12, 57.375])


def load_sam(path: str | Path, device: str = "cpu"):
    """Load a SAM checkpoint; returns (model, architecture). Clear errors for every bad file."""
    state = read_state_dict(path)
    architecture = detect_architecture(state)
    model = build_sam(architecture)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as error:
        raise SegmentationError(f"{path}: weights do not fit a {architecture.model_type} SAM "
                                f"({str(error).splitlines()[0][:120]})") from None
    return model.to(device).eval(), architecture


class SamSegmenter:
    """Points, boxes and automatic mode with one cached image embedding per image."""

    notice = ""

    def __init__(self, checkpoint: str | Path, device: str = "cpu") -> None:
        from segment_anything import SamPredictor

        self.model, self.architecture = load_sam(checkpoint, device)
        self.device = device
        self.name = f"Segment Anything ({self.architecture.model_type})"
        self.predictor = SamPredictor(self.model)
        self._key: str | None = None
        self._image: np.ndarray | None = None
        self.embeddings_computed = 0

    def set_image(self, image: np.ndarray, progress: Progress | None = None) -> None:
        key = image_key(image)
        if key == self._key:
            return
        report = progress or (lambda fraction, message: None)
        report(0.0, "computing the SAM image embedding")
        rgb = as_rgb8(image)
        with torch.inference_mode():
            self.predictor.set_image(rgb, image_format="RGB")
        self._image, self._key = rgb, key
        # SAM answers at a long side of SAM_SIDE: its outlines snap to the image's edges the same way.
        self._snapper = EdgeSnapper(rgb, SAM_SIDE / max(rgb.shape[:2]))
        self.embeddings_computed += 1
        report(1.0, "ready")

    def predict(self, points: Sequence[Point] = (), labels: Sequence[int] = (), box: Box | None = None,
                multimask: bool = True, previous_mask: np.ndarray | None = None) -> MaskPrediction:
        """``previous_mask`` is accepted for the common interface and not used (SAM answers from the prompts alone)."""
        if self._image is None:
            raise SegmentationError("no image set: call set_image first")
        check_prompts(self._image.shape[:2], points, labels, box)
        coords = np.asarray(points, np.float32) if len(points) else None
        point_labels = np.asarray(labels, np.int64) if len(points) else None
        with torch.inference_mode():
            masks, scores, _ = self.predictor.predict(point_coords=coords, point_labels=point_labels,
                                                      box=None if box is None else np.asarray(box, np.float32),
                                                      multimask_output=multimask)
        keep = [i for i in range(len(masks)) if masks[i].any()]
        if not keep:
            raise SegmentationError("SAM found no region at these prompts; try another point or a box")
        snapped = [self._snapper.snap(masks[index].astype(bool)) for index in keep]
        return MaskPrediction(np.stack(without_answer_specks(snapped, points, labels)), np.asarray(scores)[keep])

    def finer(self, point: Point, smaller_than: int) -> MaskPrediction | None:
        """No closer look: its candidates are all it offers for a click."""
        return None

    def everything(self, points_per_side: int = 16) -> list[np.ndarray]:
        from segment_anything import SamAutomaticMaskGenerator

        if self._image is None:
            raise SegmentationError("no image set: call set_image first")
        generator = SamAutomaticMaskGenerator(self.model, points_per_side=points_per_side,
                                              pred_iou_thresh=0.0, stability_score_thresh=0.0)
        with torch.inference_mode():
            records = generator.generate(self._image)
        records.sort(key=lambda record: -record["area"])
        return [record["segmentation"].astype(bool) for record in records]
