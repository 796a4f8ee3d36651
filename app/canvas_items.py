"""The canvas's own graphics items: an image overlay that repaints only what is exposed, and a mask
outline with a dark halo (solid, dashed or dotted)."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

class ImageOverlayItem(QGraphicsItem):
    """Draws a QImage, repainting only the exposed part (cheap partial updates while painting)."""

    def __init__(self, image: QImage) -> None:
        super().__init__()
        self.image = image
        self.setFlag(QGraphicsItem.ItemUsesExtendedStyleOption, True)

    def set_image(self, image: QImage) -> None:
        self.prepareGeometryChange()
        self.image = image
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.image.width(), self.image.height())

    def paint(self, painter: QPainter, option, widget=None) -> None:
        rect = option.exposedRect.intersected(self.boundingRect())
        painter.drawImage(rect, self.image, rect)


class OutlineItem(QGraphicsPathItem):
    """A mask outline in its colour over a dark halo, so it reads on light and dark paint alike."""

    def __init__(self, colour: QColor, dashed: bool = False, dashes: list[float] | None = None) -> None:
        super().__init__()
        dashes = dashes or ([4, 3] if dashed else None)
        dashed = dashes is not None
        pen = QPen(colour, 2, Qt.CustomDashLine if dashed else Qt.SolidLine)
        if dashed:
            pen.setDashPattern(dashes)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.FlatCap)
        self.setPen(pen)
        self._halo = QPen(QColor(0, 0, 0, 160), 4, pen.style(), Qt.FlatCap)
        if dashed:  # the same dashes (dash lengths count in pen widths): what lies beneath shows in the gaps
            self._halo.setDashPattern([length * 2 / 4 for length in pen.dashPattern()])
        self._halo.setCosmetic(True)

    def boundingRect(self) -> QRectF:
        # Cosmetic pens are drawn in screen pixels: leave room for the halo even when zoomed far out.
        return self.path().boundingRect().adjusted(-40, -40, 40, 40)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(self._halo)
        painter.drawPath(self.path())
        painter.setPen(self.pen())
        painter.drawPath(self.path())
