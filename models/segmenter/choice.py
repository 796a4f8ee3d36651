"""Which candidate a single click shows first: the part the artist clicked, unless a larger
candidate is clearly better, and never one that floods the image."""
from __future__ import annotations

from typing import Sequence

#: A first answer never covers more than this fraction of the image unless every candidate does.
FLOOD_FRACTION = 0.5
#: A smaller candidate is preferred when its score is within this of the best one: a click means
#: the thing under the pointer, and the larger candidates stay one step away.
CLOSE_SCORE = 0.05


def default_candidate(scores: Sequence[float], area_fractions: Sequence[float],
                      flood_fraction: float = FLOOD_FRACTION, close_score: float = CLOSE_SCORE) -> int:
    """Index of the smallest candidate, covering at most ``flood_fraction`` (all when none does),
    whose score is within ``close_score`` of the best such candidate."""
    allowed = [index for index, area in enumerate(area_fractions) if 0 < area <= flood_fraction]
    if not allowed:
        allowed = [index for index, area in enumerate(area_fractions) if area > 0] or list(range(len(scores)))
    best = max(scores[index] for index in allowed)
    close = [index for index in allowed if scores[index] >= best - close_score]
    return min(close, key=lambda index: (area_fractions[index], -scores[index]))
