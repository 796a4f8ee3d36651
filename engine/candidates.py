"""The candidates of one selection click, without Qt: the segmenter's nested masks (part, object,
larger region, and the first answer grown to the object's edge when the built-in segmenter keeps
that), ordered from the smallest to the largest, and the selection each would make.

A click adds its candidate to the selection it was made on (a right click removes it), so each
candidate gives a whole selection: ``base`` with the candidate added or removed. The first shown
is the segmenter's choice when it makes one, else :func:`default_candidate`'s; either way never
one covering more than half the painting while a smaller candidate exists. When every candidate
of a click that adds is that large, none is shown (``default`` is None) and the user steps up to
take one. A box is taken as drawn: it may cover most of the painting on purpose.

Stepping below a single click's smallest candidate asks the segmenter to look closer (a zoomed view of the
click's surroundings, ``LearnedSegmenter.finer``); what it finds smaller is put first (:meth:`with_finer`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.packed_mask import PackedMask
from engine.segmentation.base import MaskPrediction, Point, Segmenter
from models.segmenter.choice import FLOOD_FRACTION, default_candidate
from models.segmenter.evaluation_protocol import iou


#: A finer candidate this similar (IoU) to the next larger one kept is not offered: a step that changes a few
#: pixels is no choice.
FINER_DISTINCT_IOU = 0.9


@dataclass(frozen=True)
class CandidateSet:
    """The candidates of one click, smallest first, kept packed (a click on an 8K painting would
    otherwise hold 100 MB in the undo stack): their ``scores`` and ``fractions`` of the image, the
    index shown first (``default``; None: none, every candidate floods the painting), whether the
    click adds or removes, the selection it was made on (``base``, set by :meth:`on`), and for a single
    click its ``point`` and whether finer candidates were asked for already (``looked_closer``)."""

    packed: tuple[PackedMask, ...]
    scores: tuple[float, ...]
    fractions: tuple[float, ...]
    default: int | None
    adds: bool = True
    base: PackedMask | None = None
    point: Point | None = None
    looked_closer: bool = False

    @classmethod
    def from_prediction(cls, prediction: MaskPrediction, adds: bool = True, box: bool = False,
                        point: Point | None = None) -> "CandidateSet":
        """The candidates of a click (``adds``: a left click; ``point``: where, when it was a single click whose
        finer candidates may be asked for) or of a ``box``."""
        masks = np.asarray(prediction.masks, bool)
        fractions = [float(mask.mean()) for mask in masks]
        order = sorted(range(len(masks)), key=lambda index: fractions[index])
        scores = [float(prediction.scores[index]) for index in order]
        fractions = [fractions[index] for index in order]
        chosen = order.index(prediction.best_index)
        if not box and (prediction.chosen is None or fractions[chosen] > FLOOD_FRACTION):
            chosen = default_candidate(scores, fractions)
        default = chosen if box or not adds or fractions[chosen] <= FLOOD_FRACTION else None
        return cls(tuple(PackedMask.pack(masks[index]) for index in order), tuple(scores), tuple(fractions),
                   default, adds, point=None if box else point)

    def on(self, base: np.ndarray) -> "CandidateSet":
        """These candidates, clicked on the selection ``base``."""
        return replace(self, base=PackedMask.pack(base))

    @property
    def may_look_closer(self) -> bool:
        """A single click's candidates whose finer ones have not been asked for yet."""
        return self.point is not None and not self.looked_closer

    def looked_closer_with(self, segmenter: Segmenter) -> "CandidateSet":
        """These candidates given the finer ones ``segmenter`` (set on the click's image) finds below the smallest
        (``Segmenter.finer``), as :meth:`with_finer`."""
        return self.with_finer(segmenter.finer(self.point, int(np.count_nonzero(self.mask(0)))))

    def with_finer(self, finer: MaskPrediction | None) -> "CandidateSet":
        """These candidates with ``finer``'s masks (each smaller than every candidate here; None: none found) put
        first, smallest first, and marked as looked closer."""
        if finer is None or len(finer.masks) == 0:
            return replace(self, looked_closer=True)
        masks = np.asarray(finer.masks, bool)
        fractions = [float(mask.mean()) for mask in masks]
        order, larger = [], self.mask(0)
        for index in sorted(range(len(masks)), key=lambda index: fractions[index], reverse=True):
            if iou(masks[index], larger) < FINER_DISTINCT_IOU:
                order.insert(0, index)
                larger = masks[index]
        if not order:
            return replace(self, looked_closer=True)
        return replace(self, packed=tuple(PackedMask.pack(masks[index]) for index in order) + self.packed,
                       scores=tuple(float(finer.scores[index]) for index in order) + self.scores,
                       fractions=tuple(fractions[index] for index in order) + self.fractions,
                       default=None if self.default is None else self.default + len(order), looked_closer=True)

    def __len__(self) -> int:
        return len(self.scores)

    def mask(self, index: int) -> np.ndarray:
        return self.packed[index].unpack()

    def selection(self, index: int | None) -> np.ndarray:
        """The selection with candidate ``index`` added (or removed); the base for None."""
        base = self.base.unpack() if self.base is not None else np.zeros(self.packed[0].shape, bool)
        if index is None:
            return base
        return base | self.mask(index) if self.adds else base & ~self.mask(index)

    def stepped(self, index: int | None, steps: int) -> int | None:
        """The index ``steps`` larger (negative: smaller) than ``index``, kept within the candidates;
        from None (nothing shown) one step up is the smallest candidate."""
        if index is None:
            return 0 if steps > 0 else None
        return max(0, min(len(self) - 1, index + steps))

    def describe(self, index: int | None) -> str:
        """What the status bar says, e.g. "candidate 2/3 · 12.4 % of the painting · score 0.91"."""
        if index is None:
            return f"no candidate shown: each covers {self.fractions[0] * 100:.0f} % or more of the painting"
        return (f"candidate {index + 1}/{len(self)} · {self.fractions[index] * 100:.1f} % of the painting · "
                f"score {self.scores[index]:.2f}")
