"""The Restyle panel's view of an exemplar image from another file: click or drag a box on it to
pick the exemplar region (the segmenter answers on the Restyle worker)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QLabel

from app.convert import array_to_qimage, mask_to_overlay

#: The view's longest side, in screen pixels.
VIEW_SIDE = 260
#: A drag shorter than this (screen pixels) is a click.
DRAG_MIN = 4.0


class ExemplarView(QLabel):
    """Shows an image scaled to fit, with its picked region tinted; reports clicks and boxes in image pixels."""

    clicked = Signal(float, float)  # x, y in image pixels
    boxed = Signal(float, float, float, float)  # x0, y0, x1, y1 in image pixels

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.setMinimumHeight(40)
        self._image: QImage | None = None
        self._scale = 1.0
        self._pressed: QPointF | None = None
        self.hide()

    def set_image(self, image: np.ndarray) -> None:
        self._image = array_to_qimage(image)
        self._scale = min(1.0, VIEW_SIDE / max(self._image.width(), self._image.height()))
        self.show_region(None)
        self.show()

    def show_region(self, mask: np.ndarray | None) -> None:
        if self._image is None:
            return
        shown = self._image.copy()
        if mask is not None:
            painter = QPainter(shown)
            painter.drawImage(0, 0, mask_to_overlay(mask, (40, 200, 80, 120)))
            painter.end()
        size = (max(1, round(shown.width() * self._scale)), max(1, round(shown.height() * self._scale)))
        self.setPixmap(QPixmap.fromImage(shown.scaled(*size, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)))
        self.setFixedHeight(size[1])

    def to_image(self, point: QPointF) -> tuple[float, float]:
        return point.x() / self._scale, point.y() / self._scale

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self._image is not None and event.button() == Qt.LeftButton:
            self._pressed = event.position()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pressed is None:
            return
        start, end, self._pressed = self._pressed, event.position(), None
        if (end - start).manhattanLength() < DRAG_MIN:
            self.clicked.emit(*self.to_image(start))
            return
        rect = QRectF(start, end).normalized()
        (x0, y0), (x1, y1) = self.to_image(rect.topLeft()), self.to_image(rect.bottomRight())
        self.boxed.emit(x0, y0, x1, y1)
