"""The Restyle panel's view of an exemplar image from another file: click or drag a box on it to
pick the exemplar region (the segmenter answers on the Restyle worker)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QLabel

from app.canvas import CLICK_SLOP, EXEMPLAR_COLOUR
from app.convert import array_to_qimage, mask_to_overlay, polygons_to_path
from engine.masks import outline_polygons

#: The view's longest side, in screen pixels.
VIEW_SIDE = 260
#: A picked region smaller than twice this in the view (screen pixels) is also ringed by a circle this wide.
MARKER_RADIUS = 6.0


class ExemplarView(QLabel):
    """Shows an image scaled to fit, with its picked region tinted; reports clicks and boxes in image pixels."""

    clicked = Signal(float, float)  # x, y in image pixels
    boxed = Signal(float, float, float, float)  # x0, y0, x1, y1 in image pixels

    def __init__(self) -> None:
        super().__init__()
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.setMinimumHeight(40)
        self._image: QImage | None = None  # the image at the view's size (scaled once: an 8K one takes 0.2 s)
        self._scale = 1.0
        self._pressed: QPointF | None = None
        self.hide()

    def set_image(self, image: np.ndarray) -> None:
        full = array_to_qimage(image)
        self._scale = min(1.0, VIEW_SIDE / max(full.width(), full.height()))
        size = (max(1, round(full.width() * self._scale)), max(1, round(full.height() * self._scale)))
        self._image = full.scaled(*size, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
        self.show_region(None)
        self.show()

    def show_region(self, mask: np.ndarray | None) -> None:
        """Tint ``mask`` (the picked region, image-sized bool; None: none) and draw its outline at the view's
        size, over a dark halo, in the colour of the exemplar's outline on the canvas: a region of a few pixels
        in a busy painting stays visible when shrunk."""
        if self._image is None:
            return
        shown = self._image.copy()
        if mask is not None:
            painter = QPainter(shown)
            painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
            painter.drawImage(QRectF(shown.rect()), mask_to_overlay(mask, (*EXEMPLAR_COLOUR.getRgb()[:3], 110)))
            painter.setRenderHint(QPainter.Antialiasing, True)
            outline = QTransform.fromScale(self._scale, self._scale).map(polygons_to_path(outline_polygons(mask)))
            bounds = outline.boundingRect()
            if max(bounds.width(), bounds.height()) < 2 * MARKER_RADIUS:  # too small to see: ring it
                outline.addEllipse(bounds.center(), MARKER_RADIUS, MARKER_RADIUS)
            for colour, width in ((QColor(0, 0, 0, 170), 3.0), (EXEMPLAR_COLOUR, 1.5)):
                painter.setPen(QPen(colour, width))
                painter.drawPath(outline)
            painter.end()
        self.setPixmap(QPixmap.fromImage(shown))
        self.setFixedHeight(shown.height())

    def to_image(self, point: QPointF) -> tuple[float, float]:
        return point.x() / self._scale, point.y() / self._scale

    def mousePressEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if self._image is not None and event.button() == Qt.LeftButton:
            self._pressed = event.position()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pressed is None:
            return
        start, end, self._pressed = self._pressed, event.position(), None
        if (end - start).manhattanLength() < CLICK_SLOP:  # a click, as on the canvas
            self.clicked.emit(*self.to_image(start))
            return
        rect = QRectF(start, end).normalized()
        (x0, y0), (x1, y1) = self.to_image(rect.topLeft()), self.to_image(rect.bottomRight())
        self.boxed.emit(x0, y0, x1, y1)
