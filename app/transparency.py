"""Transparent paintings are drawn over a checkerboard, as image editors do: the canvas's own dark grey showed
through a transparent area, which then looked like the space around the painting.

The squares keep their size on screen at every zoom (8 px), and their pattern is anchored at the painting's
top-left corner on screen, so it moves with the painting when the view scrolls (Qt scrolls by copying what is
drawn and draws only the part uncovered)."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsView

from engine.session import CHECKER_DARK, CHECKER_LIGHT

SQUARE = 8
LIGHT, DARK = (QColor(grey, grey, grey) for grey in (CHECKER_LIGHT, CHECKER_DARK))  # the History's thumbnails' too


def checker_brush(square: int = SQUARE) -> QBrush:
    tile = QPixmap(2 * square, 2 * square)
    tile.fill(LIGHT)
    painter = QPainter(tile)
    painter.fillRect(square, 0, square, square, DARK)
    painter.fillRect(0, square, square, square, DARK)
    painter.end()
    return QBrush(tile)


def paint_checkerboard(view: QGraphicsView, painter: QPainter, area: QRectF, brush: QBrush,
                       clip: QRectF | None = None) -> None:
    """Fill ``area`` (scene coordinates: the painting) with ``brush`` in the view's own pixels; for
    ``drawBackground``, whose painter draws in scene coordinates. ``clip`` (the painter's coordinates; default
    ``area``) limits it to a part, with the squares where the whole painting has them (an item's own area)."""
    on_screen = view.mapFromScene(area).boundingRect()
    painter.save()
    # The painting's own edge (the view's rounded box is 1 px wider), or the item's.
    painter.setClipRect(area if clip is None else clip, Qt.IntersectClip)
    painter.resetTransform()
    painter.setRenderHint(QPainter.SmoothPixmapTransform, False)
    painter.setBrushOrigin(on_screen.topLeft())
    painter.fillRect(on_screen, brush)
    painter.restore()
