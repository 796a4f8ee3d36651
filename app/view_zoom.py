"""Zooming a painting view: about a point that stays where it is on screen, and drawn in sharp pixels when
close (the editor's canvas and the side-by-side compare)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsView

#: From this zoom on (2 = 200 %) the painting is drawn pixel for pixel, each of its pixels a sharp square, as
#: painting editors draw it, so that brushwork and a mask's edge can be judged where they lie; below it the
#: view resamples smoothly (a smooth 5900 % view of a small painting was a colour blur).
SHARP_FROM_ZOOM = 2.0


def show_pixels_at(zoom: float, view: QGraphicsView, items: tuple[QGraphicsPixmapItem, ...]) -> None:
    """Draw ``items`` (and the view's own image items, through its render hint) sharp or smooth for ``zoom``."""
    sharp = zoom >= SHARP_FROM_ZOOM
    view.setRenderHint(QPainter.SmoothPixmapTransform, not sharp)
    for item in items:
        item.setTransformationMode(Qt.FastTransformation if sharp else Qt.SmoothTransformation)


def zoom_about(view: QGraphicsView, factor: float, at: QPointF) -> None:
    """Scale ``view`` by ``factor``, keeping the scene point at ``at`` (viewport pixels) where it is on screen, as
    far as the scroll bars allow (a scene smaller than the view stays centred). Qt's AnchorUnderMouse reads the
    pointer from the view's own mouse-move handler and the system cursor, which a view that handles its own mouse
    moves, or a test without a cursor, never gives it."""
    held = view.mapToScene(at.toPoint())
    view.scale(factor, factor)
    drift = view.mapFromScene(held) - at.toPoint()
    view.horizontalScrollBar().setValue(view.horizontalScrollBar().value() + drift.x())
    view.verticalScrollBar().setValue(view.verticalScrollBar().value() + drift.y())
