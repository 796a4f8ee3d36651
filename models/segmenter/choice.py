"""Which candidate a single click shows first: the best-scored one that does not flood the image."""
from __future__ import annotations

from typing import Sequence

#: A first answer never covers more than this fraction of the image unless every candidate does.
FLOOD_FRACTION = 0.5


def default_candidate(scores: Sequence[float], area_fractions: Sequence[float],
                      flood_fraction: float = FLOOD_FRACTION) -> int:
    """Index of the highest score among candidates covering at most ``flood_fraction`` (all when none does)."""
    allowed = [index for index, area in enumerate(area_fractions) if 0 < area <= flood_fraction]
    if not allowed:
        allowed = [index for index, area in enumerate(area_fractions) if area > 0] or list(range(len(scores)))
    return max(allowed, key=lambda index: scores[index])
