"""The Warp tool's pins on the canvas: drawn as round handles, hit by the mouse, one dragged at a time
(mixed into :class:`app.canvas.CanvasView`, which owns the item and the signals used here). The pins'
places come from :class:`app.warp_controller.WarpController`; the canvas only shows them and reports what
the mouse did."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF
from PySide6.QtGui import QBrush, QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem

from app.hit_test import nearest_within

#: A pin's diameter on screen, in pixels, at any zoom.
PIN_SIZE = 11.0
PIN_COLOUR = QColor(255, 200, 40, 230)


def make_pins_item() -> QGraphicsPathItem:
    item = QGraphicsPathItem()
    item.setZValue(7.5)
    pen = QPen(QColor(20, 20, 20), 1.5)
    pen.setCosmetic(True)
    item.setPen(pen)
    item.setBrush(QBrush(PIN_COLOUR))
    item.hide()
    return item


class WarpPins:
    def set_pins(self, points: list[tuple[float, float]]) -> None:
        """Show pins at ``points`` (image pixels, x, y); the drag in progress, if any, is dropped."""
        self._pin_points = [QPointF(x, y) for x, y in points]
        self._pin_drag = None
        self._draw_pins()

    def pin_points(self) -> list[tuple[float, float]]:
        return [(point.x(), point.y()) for point in self._pin_points]

    def _draw_pins(self, dragged_to: QPointF | None = None) -> None:
        path = QPainterPath()
        radius = PIN_SIZE / 2 / max(self.zoom, 1e-6)
        for index, point in enumerate(self._pin_points):
            if dragged_to is not None and index == self._pin_drag:
                path.moveTo(point)  # a line from where the pin was to where it is dragged
                path.lineTo(dragged_to)
                point = dragged_to
            path.addEllipse(point, radius, radius)
        self.pins_item.setPath(path)
        self.pins_item.setVisible(self.pins_wanted() and bool(self._pin_points))

    def _hit_pin(self, scene_point: QPointF) -> int | None:
        """The nearest pin within reach of the mouse, or None."""
        return nearest_within(enumerate(self._pin_points), scene_point, PIN_SIZE / max(self.zoom, 1e-6))

    def _pin_press(self, scene_point: QPointF, left: bool) -> None:
        hit = self._hit_pin(scene_point)
        if not left:
            if hit is not None:
                self.pin_removed.emit(hit)
            return
        if hit is None:
            self.pin_added.emit(scene_point.x(), scene_point.y())
            hit = self._hit_pin(scene_point)  # the pin just placed (None when none was): a drag moves it at once
        self._pin_drag = hit

    def _pin_move(self, scene_point: QPointF) -> None:
        if self._pin_drag is not None:
            self._draw_pins(scene_point)
            self.pin_moved.emit(self._pin_drag, scene_point.x(), scene_point.y())

    def preview_target_outline(self, outline: QPainterPath | None) -> None:
        """While a pin is dragged: the new shape's bent ``outline`` alone (its fill hidden); None shows the fill
        again (the outline is then drawn anew with the shape)."""
        if outline is not None:
            self.target_outline.setPath(outline)
        self.target_item.setVisible(outline is None)

    def _pin_release(self, scene_point: QPointF) -> None:
        index, self._pin_drag = self._pin_drag, None
        if index is None:
            return
        start = self._pin_points[index]
        if math.hypot(start.x() - scene_point.x(), start.y() - scene_point.y()) * self.zoom < 1.0:
            scene_point = start  # a click on a pin, not a drag: it stays (and whatever the drag showed goes)
        self._draw_pins()
        self.pin_dragged.emit(index, scene_point.x(), scene_point.y())
