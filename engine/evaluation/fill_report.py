"""Tables and the example figure of ``simnet eval-fill``."""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from engine.evaluation.fill_cases import FillCase

FILL_COLUMNS = ("PSNR", "SSIM", "texture ratio", "seam ratio", "seconds")
OUTLINE_COLUMNS = ("outline left", "worst outline left", "outline carried", "ground carried", "click IoU", "PSNR")
LEGEND = ("PSNR (dB) and SSIM of the vacated area against the painting underneath; texture ratio: mean gradient "
          "magnitude of the fill over the truth's (1 = as busy); seam ratio: mean gradient magnitude on the hole's "
          "outline, result over truth (1 = no visible edge); seconds: the fill alone. Outlined objects: one click "
          "with the default segmenter, then moved; outline left behind / carried as shares of the outline band; "
          "ground carried: share of a ring 2-10 px beyond the object's new place turned dark where it should be light.")


def _cell(column: str, value: float) -> str:
    if column.startswith(("outline", "worst", "ground")):
        return f"{100 * value:.0f} %"
    if column == "PSNR":
        return f"{value:.1f}"
    if column == "seconds":
        return f"{value:.2f}"
    return f"{value:.2f}"


def markdown_table(summary: dict[str, dict[str, float]], columns: tuple[str, ...], count: int) -> str:
    lines = [f"| fill ({count} cases) | " + " | ".join(columns) + " |", "| --- |" + " --- |" * len(columns)]
    for method, values in summary.items():
        lines.append(f"| {method} | " + " | ".join(_cell(column, values[column]) for column in columns) + " |")
    return "\n".join(lines)


def text_table(summary: dict[str, dict[str, float]], columns: tuple[str, ...], count: int) -> str:
    first = max([22] + [len(method) + 2 for method in summary])
    head = f"{'fill (' + str(count) + ' cases)':<{first}}" + "".join(f"{column:>20}" for column in columns)
    rows = [head] + [f"{method:<{first}}" + "".join(f"{_cell(column, values[column]):>20}" for column in columns)
                     for method, values in summary.items()]
    return "\n".join(rows)


Box = tuple[int, int, int, int]


def _crop_box(case: FillCase, margin: float = 0.35, *, new_place: bool = False) -> Box:
    """A box around where the object was (the vacated area and a margin of its size); with ``new_place``, around
    where it went too."""
    ys, xs = np.nonzero(case.vacated | case.source | (case.covered_after if new_place else False))
    side = max(np.ptp(ys), np.ptp(xs)) + 1
    grow = int(margin * side)
    height, width = case.vacated.shape
    return (max(0, xs.min() - grow), max(0, ys.min() - grow),
            min(width, xs.max() + grow + 1), min(height, ys.max() + grow + 1))


def figure(cases: list[FillCase], outputs: list[dict[str, np.ndarray]], methods: tuple[str, ...],
           tile: int = 240, *, inputs: list[np.ndarray] | None = None, labels: Sequence[str] | None = None,
           new_place: bool = False) -> np.ndarray:
    """Rows: input | each method | the painting underneath, cropped around the old place (and the new one with
    ``new_place``) (RGB uint8). ``inputs``: the first column's pictures instead of the cases' images;
    ``labels``: the header's, one per column (default: input, the methods' names, truth)."""
    rows = []
    for number, (case, results) in enumerate(zip(cases, outputs)):
        x0, y0, x1, y1 = _crop_box(case, new_place=new_place)
        first = case.image if inputs is None else inputs[number]
        panels = [first] + [results[name] for name in methods] + [case.truth]
        scale = tile / max(x1 - x0, y1 - y0)
        size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
        row = [cv2.resize(np.ascontiguousarray(panel[y0:y1, x0:x1, :3]), size, interpolation=cv2.INTER_AREA)
               for panel in panels]
        canvas = np.full((tile, (tile + 6) * len(row), 3), 255, np.uint8)
        for index, picture in enumerate(row):
            canvas[:picture.shape[0], index * (tile + 6):index * (tile + 6) + picture.shape[1]] = picture
        rows.append(canvas)
    labels = ["input", *methods, "truth"] if labels is None else list(labels)
    header = np.full((28, rows[0].shape[1], 3), 255, np.uint8)
    for index, label in enumerate(labels):
        cv2.putText(header, label, (index * (tile + 6) + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1,
                    cv2.LINE_AA)
    spaced = [header]
    for row in rows:
        spaced += [row, np.full((6, row.shape[1], 3), 255, np.uint8)]
    return np.vstack(spaced)


def drawn_answer(image: np.ndarray, answer: np.ndarray, click: tuple[float, float]) -> np.ndarray:
    """``image`` (RGB) with the click's answer outlined in green and the click a red dot, both sized to be seen
    when the figure shrinks the picture (about 1/200 of its larger side)."""
    drawn = np.ascontiguousarray(image[..., :3]).copy()
    width = max(1, round(max(image.shape[:2]) / 200))
    contours, _ = cv2.findContours(answer.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(drawn, contours, -1, (0, 230, 0), width, cv2.LINE_AA)
    cv2.circle(drawn, (round(click[0]), round(click[1])), 2 * width + 2, (255, 0, 0), -1, cv2.LINE_AA)
    return drawn


def outlined_figure(pictures: Sequence[tuple[FillCase, np.ndarray, dict[str, np.ndarray]]],
                    tile: int = 240) -> np.ndarray:
    """Table 2's figure: per outlined object (case, the click's answer, the results by row name), the click and
    its answer | our edit | the edit of the object's own mask | the truth, around its old and new places."""
    from engine.evaluation.fill_runner import EXACT_SELECTION

    cases = [case for case, _, _ in pictures]
    inputs = [drawn_answer(case.image, answer, case.click) for case, answer, _ in pictures]
    outputs = [results for _, _, results in pictures]
    return figure(cases, outputs, ("ours", EXACT_SELECTION), tile, inputs=inputs, new_place=True,
                  labels=("click, its answer", "ours", "own mask", "truth"))
