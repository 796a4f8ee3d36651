"""Run ``simnet eval-fill``'s cases through the real edit path, once per compared fill.

Each case is edited by the SIM-Net :class:`~engine.manipulator.Manipulator` (network, alignment,
composition). The composition's arguments are kept, and the same composition is made again with
each compared fill in place of the shipped one (``engine.compose.compose``'s ``fill``), so every
fill gets the very same hole, forbidden area and moved layer; only the fill's own time is counted.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from engine.compose import Composition, compose
from engine.evaluation.fill_cases import FillCase
from engine.evaluation.fill_methods import Fill
from engine.evaluation.fill_metrics import remnant_scores, seam_ratio, texture_ratio
from engine.evaluation.metrics import psnr, ssim
from engine.manipulator import Manipulator


class RecordingManipulator(Manipulator):
    """A manipulator that keeps the arguments of its last composition, to compose it again with other fills."""

    last_compose: tuple | None = None
    last_bend_reach: float | None = None

    def _compose(self, image, source, target, motion, square, reach, box, fill=None,  # type: ignore[override]
                 resampling: str = "bilinear", bend_reach: float | None = None,
                 shortfall: float | None = None) -> Composition:
        self.last_compose = (image, source, target, motion, square, reach, box)
        self.last_bend_reach = bend_reach
        return super()._compose(image, source, target, motion, square, reach, box, fill, resampling, bend_reach,
                                shortfall)


@dataclass
class FillOutcome:
    result: np.ndarray
    seconds: float
    mode: str


def edit_with_fills(manipulator: RecordingManipulator, image: np.ndarray, source: np.ndarray, target: np.ndarray,
                    fills: dict[str, Fill]) -> dict[str, FillOutcome]:
    """The edit of ``source`` into ``target``, composed once per fill; results pasted as ``Manipulator.edit`` does."""
    manipulator.edit(image, source, target)
    arguments = manipulator.last_compose
    assert arguments is not None
    image_in, source_in, target_in, motion, square, reach, box = arguments
    outcomes = {}
    for name, fill in fills.items():
        spent = [0.0]

        def timed(*args, _fill=fill, **kwargs):
            started = time.perf_counter()
            out = _fill(*args, **kwargs)
            spent[0] += time.perf_counter() - started
            return out

        composition = compose(image_in, source_in, target_in, motion, square, reach, manipulator.device, box,
                              fill=timed, bend_reach=manipulator.last_bend_reach)
        bx0, by0, bx1, by1 = composition.box
        result = image_in.copy()
        np.copyto(result[by0:by1, bx0:bx1], composition.patch, where=composition.changed[..., None])
        outcomes[name] = FillOutcome(result, spent[0], composition.mode)
    return outcomes


@dataclass
class FillScores:
    """Per-case numbers by method, and kept results for figures."""

    per_case: list[dict[str, dict[str, float]]] = field(default_factory=list)
    outputs: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, float]]:
        """Mean of each column over the cases (NaNs skipped), per method."""
        methods = list(self.per_case[0]) if self.per_case else []
        table = {}
        for method in methods:
            columns = self.per_case[0][method].keys()
            table[method] = {column: float(np.nanmean([case[method][column] for case in self.per_case]))
                             for column in columns}
            if "outline left" in columns:
                table[method]["worst outline left"] = float(np.nanmax(
                    [case[method]["outline left"] for case in self.per_case]))
        return table


def score_fills(cases: list[FillCase], manipulator: RecordingManipulator, fills: dict[str, Fill],
                keep: set[int] | None = None, progress: Callable[[str], None] | None = None) -> FillScores:
    """Table 1: exact masks (the object's own pixels), moved; each fill scored on the vacated area."""
    scores = FillScores()
    for number, case in enumerate(cases):
        outcomes = edit_with_fills(manipulator, case.image, case.source, case.target, fills)
        row = {}
        for name, outcome in outcomes.items():
            row[name] = {"PSNR": psnr(outcome.result, case.underneath, case.vacated),
                         "SSIM": ssim(outcome.result, case.underneath, case.vacated),
                         "texture ratio": texture_ratio(outcome.result, case),
                         "seam ratio": seam_ratio(outcome.result, case), "seconds": outcome.seconds}
        scores.per_case.append(row)
        if keep is not None and number in keep:
            scores.outputs[number] = {name: outcome.result for name, outcome in outcomes.items()}
        if progress:
            progress(f"case {number + 1}/{len(cases)} {case.name}: " + ", ".join(
                f"{name} {values['PSNR']:.1f} dB" for name, values in row.items()))
    return scores


def _shift(mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    out = np.zeros_like(mask)
    height, width = mask.shape
    out[max(0, dy):height + min(0, dy), max(0, dx):width + min(0, dx)] = \
        mask[max(0, -dy):height - max(0, dy), max(0, -dx):width - max(0, dx)]
    return out


#: Table 2's reference row: the shipped fill given the object itself (outline included) instead of the click's
#: answer, so what the click leaves out and what the fill leaves (its own dark strokes) are told apart.
EXACT_SELECTION = "ours, the object's own mask"


def score_outlined(cases: list[FillCase], manipulator: RecordingManipulator, segmenter, fills: dict[str, Fill],
                   progress: Callable[[str], None] | None = None,
                   shown: Callable[[FillCase, np.ndarray, dict[str, np.ndarray]], None] | None = None) -> FillScores:
    """Table 2: outlined objects selected by one click with ``segmenter``, the answer moved by the object's move;
    and the reference row :data:`EXACT_SELECTION` (the object's own mask moved, the first fill). ``shown`` is
    given each case, the click's answer and the results by row name (for a figure)."""
    scores = FillScores()
    first_fill = dict(list(fills.items())[:1])
    for number, case in enumerate(cases):
        segmenter.set_image(case.image)
        selection = segmenter.predict([case.click], [1]).best
        target = _shift(selection, *case.shift)
        outcomes = edit_with_fills(manipulator, case.image, selection, target, fills)
        row = {name: remnant_scores(outcome.result, case, selection) for name, outcome in outcomes.items()}
        whole = case.with_outline
        exact = next(iter(edit_with_fills(manipulator, case.image, whole, _shift(whole, *case.shift),
                                          first_fill).values()))
        row[EXACT_SELECTION] = remnant_scores(exact.result, case, whole)
        scores.per_case.append(row)
        if shown:
            shown(case, selection, {**{name: outcome.result for name, outcome in outcomes.items()},
                                    EXACT_SELECTION: exact.result})
        if progress:
            first = next(iter(row.values()))
            progress(f"outlined {number + 1}/{len(cases)} {case.name}: click IoU {first['click IoU']:.2f}, "
                     f"outline left {100 * first['outline left']:.0f} %")
    return scores
