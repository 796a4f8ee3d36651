"""Tables (text, Markdown, JSON) and a figure of side-by-side examples."""
from __future__ import annotations

import cv2
import numpy as np

from engine.evaluation.dataset import EvalEdit
from engine.evaluation.geometry import bounding_box
from engine.evaluation.metrics import PSNR_CAP
from engine.imageio import to_rgb8

HEADERS = ("method", "new shape PSNR", "new shape SSIM", "far PSNR mean", "far PSNR worst", "far changed mean",
           "far changed worst", "far changed in", "vacated PSNR", "ghost", "mask IoU")
#: Why a cell is empty: no edit of the group vacated anything the truth tells apart.
MISSING = "-"


def _decibels(value: float) -> str:
    if np.isnan(value):
        return MISSING
    return "identical" if value >= PSNR_CAP else f"{value:.2f}"


def _percent(value: float) -> str:
    return MISSING if np.isnan(value) else f"{100 * value:.2f} %"


def _cells(values: dict[str, float], count: int) -> list[str]:
    return [_decibels(values["psnr_shape"]), f"{values['ssim_shape']:.4f}", _decibels(values["far_psnr"]),
            _decibels(values["far_psnr_worst"]), _percent(values["far_changed"]),
            _percent(values["far_changed_worst"]), f"{int(values['far_changed_edits'])}/{count}",
            _decibels(values["vacated_psnr"]), _percent(values["ghost"]), f"{values['iou']:.3f}"]


def text_table(summary: dict, counts: dict[str, int]) -> str:
    width = max(len(method) for methods in summary.values() for method in methods) + 2
    lines = []
    for group, methods in summary.items():
        lines.append(f"{group} edits ({counts[group]}):")
        lines.append("  " + HEADERS[0].ljust(width) + "".join(h.ljust(19) for h in HEADERS[1:]))
        for method, values in methods.items():
            lines.append("  " + method.ljust(width) + "".join(c.ljust(19) for c in _cells(values, counts[group])))
    return "\n".join(lines)


def markdown_table(summary: dict, counts: dict[str, int]) -> str:
    lines = ["| edits | " + " | ".join(HEADERS) + " |", "|" + " --- |" * (len(HEADERS) + 1)]
    for group, methods in summary.items():
        for method, values in methods.items():
            cells = _cells(values, counts[group])
            lines.append(f"| {group} ({counts[group]}) | {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


LEGEND = ("new shape: inside the target mask, against the truth. far: pixels farther than 0.11 x diagonal from "
          "both masks, against the input (the truth leaves them bit-identical); worst = the worst edit; "
          "changed in = edits that changed any far pixel. vacated: the source mask minus the target mask, "
          "against the truth; ghost: share of its pixels that look more like the old region than like the "
          "truth. For warp edits the vacated truth follows the evaluation's own transition profile; the "
          "moved-layer group's is the painting underneath.")


def _outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(image, contours, -1, colour, max(1, image.shape[0] // 300))


def _crop_box(masks: np.ndarray) -> tuple[int, int, int, int]:
    """The masks' bounding box grown by a third of its longer side, inside the image."""
    x0, y0, x1, y1 = bounding_box(masks)
    margin = max(x1 - x0, y1 - y0) // 3
    height, width = masks.shape
    return max(0, x0 - margin), max(0, y0 - margin), min(width, x1 + margin), min(height, y1 + margin)


def _fit(crop: np.ndarray, height: int, width: int) -> np.ndarray:
    """``crop`` scaled to fit a height x width panel, centred on white."""
    scale = min(height / crop.shape[0], width / crop.shape[1])
    size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    resized = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
    panel = np.full((height, width, 3), 255, np.uint8)
    top, left = (height - size[1]) // 2, (width - size[0]) // 2
    panel[top:top + size[1], left:left + size[0]] = resized
    return panel


def figure(edits: list[EvalEdit], columns: dict[str, list[np.ndarray]], rows: int = 4, height: int = 220) -> np.ndarray:
    """One row per edit: input with source (green) and target (red) outlines, each method, truth."""
    width = round(height * 4 / 3)
    strips = []
    for index, edit in enumerate(edits[:rows]):
        bx0, by0, bx1, by1 = _crop_box(edit.edit.source_mask | edit.edit.target_mask)
        marked = to_rgb8(edit.image)
        _outline(marked, edit.edit.source_mask, (0, 200, 0))
        _outline(marked, edit.edit.target_mask, (230, 0, 0))
        panels = [marked] + [to_rgb8(outputs[index]) for outputs in columns.values()] + [to_rgb8(edit.truth)]
        fitted = [_fit(panel[by0:by1, bx0:bx1], height, width) for panel in panels]
        strips.append(np.hstack([np.pad(f, ((2, 2), (2, 2), (0, 0)), constant_values=255) for f in fitted]))
    labels = ["input (green: region, red: new shape)", *columns.keys(), "ground truth"]
    header = np.full((28, strips[0].shape[1], 3), 255, np.uint8)
    for i, label in enumerate(labels):
        cv2.putText(header, label, (4 + i * (width + 4), 19), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return np.vstack([header, *strips])
