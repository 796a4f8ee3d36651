"""The brush's options (size in image pixels, hardness 0.05-1), set from the tool bar's sliders and
read by the canvas (to paint) and the selection controller (to soften a stroke's outline)."""
from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class BrushOptions(QObject):
    changed = Signal(float, float)  # size, hardness

    def __init__(self, parent: QObject | None = None, size: float = 40.0, hardness: float = 1.0) -> None:
        super().__init__(parent)
        self.size, self.hardness = size, hardness

    def set(self, size: float, hardness: float) -> None:
        self.size, self.hardness = float(size), float(hardness)
        self.changed.emit(self.size, self.hardness)
