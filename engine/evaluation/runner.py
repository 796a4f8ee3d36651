"""Run every method on every evaluation edit and aggregate the scores per group."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from engine.evaluation.baselines import cut_and_paste, register
from engine.evaluation.cost import measure_cost
from engine.evaluation.dataset import GROUPS, EvalEdit
from engine.evaluation.metrics import PAPER_METRICS, changed_fraction, ghost_fraction, iou, psnr, ssim

#: A method maps (image, source mask, target mask) to (result image, warped mask).
Method = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
#: Per-edit scores: (a) the new shape against the truth; (b) far from both masks against the input;
#: (c) the vacated area against the truth, and how much of the old region is still there; mask IoU.
METRICS = ("psnr_shape", "ssim_shape", "far_psnr", "far_changed", "vacated_psnr", "ghost", "iou")
#: The summary row over every edit of every group.
ALL_EDITS = "all"
#: SIM-Net rows of the table: name -> keyword options of ``Manipulator.edit`` ({}: the product's defaults).
SIMNET_ROWS: dict[str, dict[str, Any]] = {
    "SIM-Net": {},
    "SIM-Net, classical start only (no network)": {"use_network": False},
}


def unchanged(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return image, source


BASELINES: dict[str, Method] = {"unchanged": unchanged, "cut-and-paste": cut_and_paste, "register": register}


def simnet_methods(manipulator: Any, rows: dict[str, dict[str, Any]] | None = None) -> dict[str, Method]:
    """One method per SIM-Net row, each calling ``manipulator.edit(image, source, target, **options)``."""
    def method(options: dict[str, Any]) -> Method:
        def run(image: np.ndarray, source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            result = manipulator.edit(image, source, target, **options)
            return result.image, result.warped_mask
        return run
    return {name: method(options) for name, options in (SIMNET_ROWS if rows is None else rows).items()}


def score(edit: EvalEdit, result: np.ndarray, warped_mask: np.ndarray) -> dict[str, float]:
    """The scores of one result; ``vacated_psnr`` and ``ghost`` are NaN when the edit vacates nothing
    (or nothing that tells the old region from the truth)."""
    true = edit.edit
    vacated = true.vacated_mask
    return {"psnr_shape": psnr(result, true.truth, true.target_mask),
            "ssim_shape": ssim(result, true.truth, true.target_mask),
            "far_psnr": psnr(result, true.image, edit.far),
            "far_changed": changed_fraction(result, true.image, edit.far),
            "vacated_psnr": psnr(result, true.truth, vacated) if vacated.any() else float("nan"),
            "ghost": ghost_fraction(result, true.image, true.truth, vacated),
            "iou": iou(warped_mask, true.target_mask)}


def summarise(rows: list[dict[str, float]]) -> dict[str, float]:
    """Means of every metric (over the edits where it is defined), plus the worst edit's collateral."""
    summary = {}
    for metric in METRICS + tuple(key for key in PAPER_METRICS if rows and key in rows[0]):
        values = np.array([row[metric] for row in rows], np.float64)
        defined = values[~np.isnan(values)]
        summary[metric] = float(defined.mean()) if defined.size else float("nan")
    summary["far_psnr_worst"] = float(min(row["far_psnr"] for row in rows))
    summary["far_changed_worst"] = float(max(row["far_changed"] for row in rows))
    summary["far_changed_edits"] = float(sum(row["far_changed"] > 0 for row in rows))
    return summary


@dataclass
class Scores:
    per_edit: dict[str, list[dict[str, float]]] = field(default_factory=dict)
    outputs: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def table(self, edits: list[EvalEdit]) -> dict[str, dict[str, dict[str, float]]]:
        """group -> method -> summary (:func:`summarise`); with :data:`ALL_EDITS` over every edit
        when there are several groups."""
        selections = {group: [i for i, edit in enumerate(edits) if edit.group == group] for group in GROUPS}
        selections = {group: indices for group, indices in selections.items() if indices}
        if len(selections) > 1:
            selections[ALL_EDITS] = list(range(len(edits)))
        return self._summaries(selections)

    def breakdown(self, edits: list[EvalEdit],
                  key: Callable[[EvalEdit], str]) -> dict[str, dict[str, dict[str, float]]]:
        """value of ``key`` (e.g. the layout: one region, border-cut, two parts) -> method -> summary."""
        selections: dict[str, list[int]] = {}
        for index, edit in enumerate(edits):
            selections.setdefault(key(edit), []).append(index)
        return self._summaries(selections)

    def _summaries(self, selections: dict[str, list[int]]) -> dict[str, dict[str, dict[str, float]]]:
        return {name: {method: summarise([rows[i] for i in indices]) for method, rows in self.per_edit.items()}
                for name, indices in selections.items()}


def run_methods(edits: list[EvalEdit], methods: dict[str, Method], keep_outputs: set[int] | None = None,
                progress: Callable[[str], None] | None = None, paper: bool = True) -> Scores:
    """Score each method on every edit; keeps the results of the edits in ``keep_outputs``. With
    ``paper``, each row also has SIM-Net's Table 1 and 2 columns (:mod:`engine.evaluation.paper_tables`),
    the method's seconds and its peak memory rise."""
    scores = Scores()
    for name, method in methods.items():
        rows, outputs = [], []
        for index, edit in enumerate(edits):
            (result, warped), seconds, peak_mb = measure_cost(
                lambda: method(edit.image, edit.edit.source_mask, edit.edit.target_mask))
            row = score(edit, result, warped)
            if paper:
                from engine.evaluation.paper_tables import paper_scores  # the backbone, on demand
                row.update(paper_scores(edit, result), seconds=seconds, peak_mb=peak_mb)
            rows.append(row)
            if keep_outputs and index in keep_outputs:
                outputs.append(result)
        scores.per_edit[name] = rows
        scores.outputs[name] = outputs
        if progress:
            progress(f"{name}: {len(edits)} edits scored")
    return scores
