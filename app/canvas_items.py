"""The canvas's own graphics items: an image overlay that repaints only what is exposed, and a mask
outline with a dark halo (solid, dashed or dotted)."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsView,
                               QStyleOptionGraphicsItem, QWidget)

from app.convert import PolygonPath, path_to_polygons, polygons_to_path
from app.transparency import paint_checkerboard
from engine.masks import simplified_polygons

class PatchItem(QGraphicsPixmapItem):
    """A piece of the painting shown over it (a preview, a live frame). Where the piece is translucent (a painting
    with an alpha channel) it is drawn over the canvas's checkerboard, not over the painting under it, which
    showed through: a preview that was half the old pixels and half the new."""

    def __init__(self, checker: QBrush) -> None:
        super().__init__()
        self._checker = checker

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        view = widget.parent() if widget is not None else None
        if self.pixmap().hasAlphaChannel() and isinstance(view, QGraphicsView):
            paint_checkerboard(view, painter, view.sceneRect(), self._checker, clip=self.boundingRect())
        super().paint(painter, option, widget)


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

        # Drawn once into a pixmap of the view's pixels and reused until the outline or the zoom changes: a
        # preview redrawn beneath it (a restyle's strength slider) does not redraw an 8K sky's 20,000-point outline.
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self._simplified: dict[int, QPainterPath] = {}  # the path for each zoomed-out level (see _path_at)
        self._polygons: list[np.ndarray] | None = None  # the path's polygons, when it came with them

    def setPath(self, path: QPainterPath) -> None:
        super().setPath(path)
        self._simplified = {}
        self._polygons = path.polygons if isinstance(path, PolygonPath) else None

    def boundingRect(self) -> QRectF:
        # Cosmetic pens are drawn in screen pixels: leave room for the halo even when zoomed far out.
        return self.path().boundingRect().adjusted(-40, -40, 40, 40)

    def _path_at(self, scale: float) -> QPainterPath:
        """The outline to draw at ``scale`` screen pixels an image pixel: as it is from half a screen pixel an image
        pixel up; zoomed further out, simplified to within half a screen pixel (levels of powers of two)."""
        if scale >= 0.5 or scale <= 0:
            return self.path()
        level = 2 ** math.ceil(math.log2(1.0 / scale))
        if level not in self._simplified:
            polygons = self._polygons if self._polygons is not None else path_to_polygons(self.path())
            self._simplified[level] = polygons_to_path(simplified_polygons(polygons, level / 2))
        return self._simplified[level]

    def paint(self, painter: QPainter, option, widget=None) -> None:
        path = self._path_at(QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform()))
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setBrush(Qt.NoBrush)
        painter.setPen(self._halo)
        painter.drawPath(path)
        painter.setPen(self.pen())
        painter.drawPath(path)
