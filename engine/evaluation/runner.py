"""Run every method on every evaluation edit and aggregate the scores per group."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from engine.evaluation.baselines import cut_and_paste, register, true_affine_reference
from engine.evaluation.dataset import GROUPS, EvalEdit
from engine.evaluation.metrics import iou, psnr, ssim

#: A method maps (image, source mask, target mask) to (result image, warped mask).
Method = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
METRICS = ("psnr_edited", "ssim_edited", "psnr_rest", "iou")
#: The summary row over every edit of every group.
ALL_EDITS = "all"


def unchanged(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return image, source


BASELINES: dict[str, Method] = {"unchanged": unchanged, "cut-and-paste": cut_and_paste, "register": register}
#: Rows that read the true answer: not methods, yardsticks of what the inputs allow.
Reference = Callable[[EvalEdit], tuple[np.ndarray, np.ndarray]]
REFERENCES: dict[str, Reference] = {
    "reference: true region, true affine around": lambda edit: true_affine_reference(edit.image, edit.edit, edit.truth)}


@dataclass
class Scores:
    per_edit: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    outputs: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def table(self, edits: list[EvalEdit]) -> dict[str, dict[str, dict[str, float]]]:
        """group -> method -> metric -> mean; with :data:`ALL_EDITS` over every edit when there are
        several groups."""
        summary: dict[str, dict[str, dict[str, float]]] = {}
        selections = {group: [i for i, edit in enumerate(edits) if edit.group == group] for group in GROUPS}
        selections = {group: indices for group, indices in selections.items() if indices}
        if len(selections) > 1:
            selections[ALL_EDITS] = list(range(len(edits)))
        for group, indices in selections.items():
            summary[group] = {
                method: {metric: float(np.mean([rows[i][metric] for i in indices])) for metric in METRICS}
                for method, rows in self.per_edit.items()}
        return summary


def score(edit: EvalEdit, result: np.ndarray, warped_mask: np.ndarray) -> dict[str, float]:
    rest = ~edit.edited_area
    return {"psnr_edited": psnr(result, edit.truth, edit.edited_area),
            "ssim_edited": ssim(result, edit.truth, edit.edited_area),
            "psnr_rest": psnr(result, edit.truth, rest),
            "iou": iou(warped_mask, edit.edit.target_mask)}


def run_methods(edits: list[EvalEdit], methods: dict[str, Method], keep_outputs: int = 0,
                progress: Callable[[str], None] | None = None, references: dict[str, Reference] | None = None) -> Scores:
    """Score each method (and each reference, listed last) on every edit."""
    scores = Scores()
    runs: dict[str, Reference] = {
        name: (lambda edit, method=method: method(edit.image, edit.edit.source_mask, edit.edit.target_mask))
        for name, method in methods.items()}
    runs.update(references or {})
    for name, run in runs.items():
        rows, outputs = [], []
        for index, edit in enumerate(edits):
            result, warped = run(edit)
            rows.append(score(edit, result, warped))
            if index < keep_outputs:
                outputs.append(result)
        scores.per_edit[name] = rows
        scores.outputs[name] = outputs
        if progress:
            progress(f"{name}: {len(edits)} edits scored")
    return scores
