"""The canvas's own graphics items: an image overlay that repaints only what is exposed, and a mask
outline with a dark halo (solid, dashed or dotted)."""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem, QGraphicsView,
                               QStyleOptionGraphicsItem, QWidget)

from app.convert import PolygonPath, path_to_polygons, polygons_to_path
from app.transparency import paint_checkerboard
from engine.masks import dashed_polylines, simplified_polygons


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


#: Below this many screen pixels an image pixel, outlines are simplified and drawn fast (OutlineItem).
ZOOMED_OUT = 0.5
#: Device-pixel offsets at which an outline's one-pixel line is drawn: a line two pixels wide.
LINE_OFFSETS = ((-0.5, -0.5), (0.5, -0.5), (-0.5, 0.5), (0.5, 0.5))


class OutlineItem(QGraphicsPathItem):
    """A mask outline in its colour over a dark halo, so it reads on light and dark paint alike.

    Zoomed out (under half a screen pixel an image pixel, where all of a large outline shows) it is drawn fast:
    Qt strokes a smooth one-pixel cosmetic line some 40x faster than a wider one (an 8K sky's outline took 0.1 s a
    line at each undo, zoom or new outline), so the two-pixel line is four one-pixel lines side by side
    (LINE_OFFSETS) over a four-pixel halo drawn without smoothing (translucent: its steps do not show). A dashed
    outline's dashes are then laid out here (:func:`engine.masks.dashed_polylines`), once per zoom, so that the
    line's and the halo's fall in the same places: the two strokers dash differently. Closer up, Qt's smooth
    pens (only the part on screen is stroked, quickly)."""

    def __init__(self, colour: QColor, dashed: bool = False, dashes: list[float] | None = None) -> None:
        super().__init__()
        dashes = dashes or ([4, 3] if dashed else None)
        pen = QPen(colour, 2, Qt.SolidLine if dashes is None else Qt.CustomDashLine)
        if dashes is not None:
            pen.setDashPattern(dashes)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.FlatCap)
        self.setPen(pen)
        #: Dash and gap in screen pixels (the pen's pattern counts in pen widths); None: a solid line.
        self._dashes = None if dashes is None else (dashes[0] * pen.widthF(), dashes[1] * pen.widthF())
        self._halo = QPen(QColor(0, 0, 0, 160), 4, pen.style(), Qt.FlatCap)
        if dashes is not None:  # the same dashes (lengths count in pen widths): what lies beneath shows in the gaps
            self._halo.setDashPattern([length * 2 / 4 for length in pen.dashPattern()])
        self._halo.setCosmetic(True)
        self._fast_halo = QPen(QColor(0, 0, 0, 160), 4, Qt.SolidLine, Qt.FlatCap)
        self._fast_halo.setCosmetic(True)
        self._fast_line = QPen(colour, 1, Qt.SolidLine, Qt.FlatCap)
        self._fast_line.setCosmetic(True)

        # Drawn once into a pixmap of the view's pixels and reused until the outline or the zoom changes: a
        # preview redrawn beneath it (a restyle's strength slider) does not redraw an 8K sky's 20,000-point outline.
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        self._simplified: dict[int, PolygonPath] = {}  # the path for each zoomed-out level (see _paths_at)
        self._dashed: tuple[float, QPainterPath, QPainterPath] | None = None  # the halo's and line's dashes at a zoom
        self._polygons: list[np.ndarray] | None = None  # the path's polygons, when it came with them

    def setPath(self, path: QPainterPath) -> None:
        super().setPath(path)
        self._simplified, self._dashed = {}, None
        self._polygons = path.polygons if isinstance(path, PolygonPath) else None

    def boundingRect(self) -> QRectF:
        # Cosmetic pens are drawn in screen pixels: leave room for the halo even when zoomed far out.
        return self.path().boundingRect().adjusted(-40, -40, 40, 40)

    def _all_polygons(self) -> list[np.ndarray]:
        if self._polygons is None:
            self._polygons = path_to_polygons(self.path())
        return self._polygons

    def _paths_at(self, scale: float) -> tuple[QPainterPath, QPainterPath]:
        """The outline to draw at ``scale`` screen pixels an image pixel, for the halo and for the line: as it is
        from half a screen pixel an image pixel up; zoomed further out, simplified to within half a screen pixel
        (levels of powers of two), and there dashed for a dashed outline (the line's dashes a pixel shorter: drawn at
        LINE_OFFSETS, each grows by a pixel)."""
        if scale >= ZOOMED_OUT or scale <= 0:
            return self.path(), self.path()
        level = 2 ** math.ceil(math.log2(1.0 / scale))
        if level not in self._simplified:
            self._simplified[level] = polygons_to_path(simplified_polygons(self._all_polygons(), level / 2))
        simplified = self._simplified[level]
        if self._dashes is None:
            return simplified, simplified
        if self._dashed is None or self._dashed[0] != scale:
            dash, gap = self._dashes
            halo, line = ((dashed_polylines(simplified.polygons, on, off, scale) for on, off in
                           ((dash, gap), (max(0.5, dash - 1), gap + 1))))
            self._dashed = (scale, polygons_to_path(halo, closed=False), polygons_to_path(line, closed=False))
        return self._dashed[1], self._dashed[2]

    def paint(self, painter: QPainter, option, widget=None) -> None:
        scale = QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())
        halo, line = self._paths_at(scale)
        painter.setBrush(Qt.NoBrush)
        if scale >= ZOOMED_OUT:
            painter.setRenderHint(QPainter.Antialiasing, True)
            for pen, path in ((self._halo, halo), (self.pen(), line)):
                painter.setPen(pen)
                painter.drawPath(path)
            return
        painter.setRenderHint(QPainter.Antialiasing, False)
        painter.setPen(self._fast_halo)
        painter.drawPath(halo)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.setPen(self._fast_line)
        transform = painter.worldTransform()
        for dx, dy in LINE_OFFSETS:
            painter.setWorldTransform(transform * QTransform.fromTranslate(dx, dy))
            painter.drawPath(line)
        painter.setWorldTransform(transform)
