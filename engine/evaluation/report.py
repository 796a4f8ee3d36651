"""Tables (text, Markdown, JSON) and a figure of side-by-side examples."""
from __future__ import annotations

import cv2
import numpy as np

from engine.evaluation.dataset import EvalEdit
from engine.evaluation.metrics import PSNR_CAP
from models.deformation import influence_box

HEADERS = ("method", "PSNR edited (dB)", "SSIM edited", "PSNR rest (dB)", "mask IoU")


def _cells(values: dict[str, float]) -> list[str]:
    rest = "identical" if values["psnr_rest"] >= PSNR_CAP else f"{values['psnr_rest']:.2f}"
    return [f"{values['psnr_edited']:.2f}", f"{values['ssim_edited']:.4f}", rest, f"{values['iou']:.3f}"]


def text_table(summary: dict, counts: dict[str, int]) -> str:
    lines = []
    for group, methods in summary.items():
        lines.append(f"{group} edits ({counts[group]}):")
        lines.append("  " + "".join(h.ljust(18) for h in HEADERS))
        for method, values in methods.items():
            lines.append("  " + "".join(cell.ljust(18) for cell in [method, *_cells(values)]))
    return "\n".join(lines)


def markdown_table(summary: dict, counts: dict[str, int]) -> str:
    lines = ["| edits | " + " | ".join(HEADERS) + " |", "|" + " --- |" * (len(HEADERS) + 1)]
    for group, methods in summary.items():
        for method, values in methods.items():
            lines.append(f"| {group} ({counts[group]}) | {method} | " + " | ".join(_cells(values)) + " |")
    return "\n".join(lines)


def _rgb8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint16:
        image = (image // 257).astype(np.uint8)
    if image.ndim == 2:
        image = image[..., None]
    return np.repeat(image, 3, axis=2) if image.shape[2] == 1 else image[..., :3].copy()


def _outline(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(image, contours, -1, colour, max(1, image.shape[0] // 300))


def figure(edits: list[EvalEdit], columns: dict[str, list[np.ndarray]], rows: int = 4, height: int = 220) -> np.ndarray:
    """One row per edit: input with source (green) and target (red) outlines, each method, truth."""
    strips = []
    for index, edit in enumerate(edits[:rows]):
        x0, y0, side = influence_box(edit.edit.source_mask, edit.edit.target_mask)
        h, w = edit.image.shape[:2]
        bx0, by0, bx1, by1 = max(0, x0), max(0, y0), min(w, x0 + side), min(h, y0 + side)
        marked = _rgb8(edit.image)
        _outline(marked, edit.edit.source_mask, (0, 200, 0))
        _outline(marked, edit.edit.target_mask, (230, 0, 0))
        panels = [marked] + [_rgb8(outputs[index]) for outputs in columns.values()] + [_rgb8(edit.truth)]
        crops = [panel[by0:by1, bx0:bx1] for panel in panels]
        scale = height / crops[0].shape[0]
        size = (max(1, round(crops[0].shape[1] * scale)), height)
        resized = [cv2.resize(crop, size, interpolation=cv2.INTER_AREA) for crop in crops]
        strips.append(np.hstack([np.pad(r, ((2, 2), (2, 2), (0, 0)), constant_values=255) for r in resized]))
    width = max(strip.shape[1] for strip in strips)
    strips = [np.pad(s, ((0, 0), (0, width - s.shape[1]), (0, 0)), constant_values=255) for s in strips]
    labels = ["input (green: region, red: new shape)", *columns.keys(), "ground truth"]
    header = np.full((28, width, 3), 255, np.uint8)
    panel_width = strips[0].shape[1] // len(labels)
    for i, label in enumerate(labels):
        cv2.putText(header, label, (4 + i * panel_width, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1, cv2.LINE_AA)
    return np.vstack([header, *strips])
