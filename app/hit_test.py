"""Which of the canvas's handles (the Transform tool's squares, the Warp tool's pins) the mouse is on."""
from __future__ import annotations

import math
from typing import Hashable, Iterable, TypeVar

from PySide6.QtCore import QPointF

Key = TypeVar("Key", bound=Hashable)


def nearest_within(points: Iterable[tuple[Key, QPointF]], at: QPointF, reach: float) -> Key | None:
    """The key of the point nearest ``at`` among ``points`` (key, scene point) no farther than ``reach``; None when
    none is that near (the last of equally near ones)."""
    best, found = reach, None
    for key, point in points:
        distance = math.hypot(point.x() - at.x(), point.y() - at.y())
        if distance <= best:
            best, found = distance, key
    return found
