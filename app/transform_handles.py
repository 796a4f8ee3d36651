"""The Transform tool's handles on the canvas: where they are, which one the mouse hits, and the
drag's move, turn about the new shape's centre, or scale about the corner opposite the one dragged (about
the centre with Alt or Ctrl held, as in Photoshop's Free Transform) (mixed into :class:`app.canvas.CanvasView`,
which owns the items and the signals used here)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QPainterPath, QTransform

#: The handles' size on screen, in pixels, at any zoom.
HANDLE_SIZE = 10.0


class TransformHandles:
    def _handle_positions(self) -> dict[str, QPointF]:
        if self._target_rect is None:
            return {}
        rect = self._target_rect
        scale = 1.0 / max(self.zoom, 1e-6)
        return {"scale_tl": rect.topLeft(), "scale_tr": rect.topRight(), "scale_bl": rect.bottomLeft(),
                "scale_br": rect.bottomRight(), "rotate": QPointF(rect.center().x(), rect.top() - 30 * scale)}

    def _update_handles(self, moved: QTransform | None = None) -> None:
        """Draw the handles; during a drag (``moved``: the drag so far) they travel with the shape
        and keep their size on screen."""
        path = QPainterPath()
        if self.handles_wanted() and self._target_rect is not None:
            size = HANDLE_SIZE / max(self.zoom, 1e-6)
            at = moved.map if moved is not None else (lambda point: point)
            for name, point in self._handle_positions().items():
                point = at(point)
                if name == "rotate":
                    path.addEllipse(point, size / 2, size / 2)
                    path.moveTo(point)
                    path.lineTo(at(QPointF(self._target_rect.center().x(), self._target_rect.top())))
                else:
                    path.addRect(QRectF(point.x() - size / 2, point.y() - size / 2, size, size))
        self.handles.setPath(path)

    def _scale_anchor(self, handle: str, about_centre: bool) -> QPointF | None:
        """The point a drag of the corner ``handle`` scales about: the opposite corner, or the shape's centre."""
        if about_centre or self._target_rect is None:
            return self._target_centre
        opposite = {"scale_tl": "scale_br", "scale_br": "scale_tl", "scale_tr": "scale_bl", "scale_bl": "scale_tr"}
        return self._handle_positions()[opposite[handle]]

    def _hit_handle(self, scene_point: QPointF) -> str | None:
        tolerance = 1.5 * HANDLE_SIZE / max(self.zoom, 1e-6)
        for name, point in self._handle_positions().items():
            if math.hypot(point.x() - scene_point.x(), point.y() - scene_point.y()) <= tolerance:
                return name
        return None

    def _transform_preview(self, scene_point: QPointF) -> None:
        centre, press = self._target_centre, self._press
        if centre is None or press is None:
            return
        dx, dy, scale, angle = 0.0, 0.0, 1.0, 0.0
        if self._transform_mode == "move":
            dx, dy = scene_point.x() - press.x(), scene_point.y() - press.y()
        elif self._transform_mode == "scale":
            anchor = self._scale_from if self._scale_from is not None else centre
            before = math.hypot(press.x() - anchor.x(), press.y() - anchor.y())
            after = math.hypot(scene_point.x() - anchor.x(), scene_point.y() - anchor.y())
            scale = max(0.05, after / max(before, 1e-6))
            # Scaling about the anchor is scaling about the centre, then moving by (1 - scale) x (anchor - centre).
            dx, dy = (1 - scale) * (anchor.x() - centre.x()), (1 - scale) * (anchor.y() - centre.y())
        elif self._transform_mode == "rotate":
            before = math.atan2(press.y() - centre.y(), press.x() - centre.x())
            after = math.atan2(scene_point.y() - centre.y(), scene_point.x() - centre.x())
            angle = math.degrees(after - before)
        self._transform_state = (dx, dy, scale, angle)
        self.transform_moved.emit(dx, dy, scale, angle)
        transform = (QTransform().translate(centre.x() + dx, centre.y() + dy).rotate(angle).scale(scale, scale)
                     .translate(-centre.x(), -centre.y()))
        self.target_item.setTransform(transform)
        self.target_outline.setTransform(transform)
        self._update_handles(transform)
