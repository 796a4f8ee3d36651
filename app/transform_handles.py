"""The Transform tool's handles on the canvas: where they are, which one the mouse hits, and what a drag
does: move; turn about the new shape's centre (with Shift in steps of 15 degrees); scale by a corner (in
proportion; with Shift each axis on its own) or stretch by a side, about the opposite corner or side (about
the centre with Alt or Ctrl held), as Photoshop's Free Transform does (mixed into
:class:`app.canvas.CanvasView`, which owns the items and the signals used here)."""
from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainterPath, QTransform

from app.hit_test import nearest_within

#: The handles' size on screen, in pixels, at any zoom (the sides' a little smaller than the corners').
HANDLE_SIZE = 10.0
SIDE_HANDLE_SIZE = 8.0
#: A drag never shrinks the shape below this share of its size along either axis.
MIN_SCALE = 0.05
#: With Shift held, a turn goes in steps of this many degrees (as in Photoshop's Free Transform).
ANGLE_STEP = 15.0
#: The handle across from each corner and side: what its drag scales or stretches about.
OPPOSITE = {"scale_tl": "scale_br", "scale_br": "scale_tl", "scale_tr": "scale_bl", "scale_bl": "scale_tr",
            "stretch_l": "stretch_r", "stretch_r": "stretch_l", "stretch_t": "stretch_b", "stretch_b": "stretch_t"}


#: The mouse pointer over each handle (the knob: an open hand, there is no standard turning pointer).
HANDLE_CURSORS = {"scale_tl": Qt.SizeFDiagCursor, "scale_br": Qt.SizeFDiagCursor, "scale_tr": Qt.SizeBDiagCursor,
                  "scale_bl": Qt.SizeBDiagCursor, "stretch_l": Qt.SizeHorCursor, "stretch_r": Qt.SizeHorCursor,
                  "stretch_t": Qt.SizeVerCursor, "stretch_b": Qt.SizeVerCursor, "rotate": Qt.OpenHandCursor}


#: The drags that scale the shape, about the anchor taken at the press (``CanvasView._scale_from``).
SCALING_MODES = ("scale", "stretch_x", "stretch_y")


def transform_mode(handle: str | None, inside: bool) -> str | None:
    """What a press does: "rotate" on the knob, "scale" on a corner, "stretch_x" / "stretch_y" on a side,
    "move" inside the shape's box; None elsewhere."""
    if handle == "rotate":
        return "rotate"
    if handle is not None and handle.startswith("scale"):
        return "scale"
    if handle in ("stretch_l", "stretch_r"):
        return "stretch_x"
    if handle in ("stretch_t", "stretch_b"):
        return "stretch_y"
    return "move" if inside else None


#: The pointers of a double-headed arrow, by the arrow's direction on screen in steps of 45 degrees from the
#: horizontal (a turned shape's handles point the way they stretch).
ARROW_CURSORS = (Qt.SizeHorCursor, Qt.SizeFDiagCursor, Qt.SizeVerCursor, Qt.SizeBDiagCursor)


class TransformHandles:
    def _frame(self) -> QTransform:
        """Points of the new shape's own frame (where its box ``_target_rect`` is upright) to the painting's: the
        turn by ``_target_angle`` about its centre."""
        centre = self._target_centre if self._target_centre is not None else QPointF()
        return QTransform().translate(centre.x(), centre.y()).rotate(self._target_angle).translate(-centre.x(),
                                                                                                    -centre.y())

    def _in_frame(self, scene_point: QPointF) -> QPointF:
        return self._frame().inverted()[0].map(scene_point)

    def _frame_positions(self) -> dict[str, QPointF]:
        """The handles in the new shape's own frame."""
        rect = self._target_rect
        scale = 1.0 / max(self.zoom, 1e-6)
        centre = rect.center()
        return {"scale_tl": rect.topLeft(), "scale_tr": rect.topRight(), "scale_bl": rect.bottomLeft(),
                "scale_br": rect.bottomRight(),
                "stretch_l": QPointF(rect.left(), centre.y()), "stretch_r": QPointF(rect.right(), centre.y()),
                "stretch_t": QPointF(centre.x(), rect.top()), "stretch_b": QPointF(centre.x(), rect.bottom()),
                "rotate": QPointF(centre.x(), rect.top() - 30 * scale)}

    def _handle_positions(self) -> dict[str, QPointF]:
        if self._target_rect is None:
            return {}
        frame = self._frame()
        return {name: frame.map(point) for name, point in self._frame_positions().items()}

    def _update_handles(self, moved: QTransform | None = None) -> None:
        """Draw the handles; during a drag (``moved``: the drag so far) they travel with the shape
        and keep their size on screen."""
        path = QPainterPath()
        if self.handles_wanted() and self._target_rect is not None:
            at = moved.map if moved is not None else (lambda point: point)
            for name, point in self._handle_positions().items():
                point = at(point)
                size = (SIDE_HANDLE_SIZE if name.startswith("stretch") else HANDLE_SIZE) / max(self.zoom, 1e-6)
                if name == "rotate":
                    path.addEllipse(point, size / 2, size / 2)
                    path.moveTo(point)
                    top = self._frame().map(QPointF(self._target_rect.center().x(), self._target_rect.top()))
                    path.lineTo(at(top))
                else:  # a square turned with the shape (and with the turn being dragged)
                    square = QPainterPath()
                    square.addRect(QRectF(-size / 2, -size / 2, size, size))
                    turn = self._target_angle + (self._transform_state[4] if moved is not None else 0.0)
                    path.addPath(QTransform().translate(point.x(), point.y()).rotate(turn).map(square))
        self.handles.setPath(path)

    def _scale_anchor(self, handle: str, about_centre: bool) -> QPointF | None:
        """The point a drag of the corner or side ``handle`` scales about: the opposite one, or the shape's centre."""
        if about_centre or self._target_rect is None:
            return self._target_centre
        return self._handle_positions()[OPPOSITE[handle]]

    def _handle_under(self, scene_point: QPointF) -> tuple[str | None, bool]:
        """The handle nearest the mouse within reach (or None), and whether the mouse is inside the shape's box.
        Inside it the reach is the handle's own square (a press there is otherwise a move: on a small shape the
        handles would leave no room for it)."""
        inside = self._target_rect is not None and self._target_rect.contains(self._in_frame(scene_point))
        reach = (0.75 if inside else 1.5) * HANDLE_SIZE / max(self.zoom, 1e-6)
        return nearest_within(self._handle_positions().items(), scene_point, reach), inside

    def _transform_cursor(self, scene_point: QPointF) -> Qt.CursorShape:
        """The pointer that says what a press at ``scene_point`` would do: a handle's, a move's inside the shape's
        box, an arrow elsewhere (a click there selects anew)."""
        handle, inside = self._handle_under(scene_point)
        if handle is not None and handle != "rotate" and self._target_angle and self._target_centre is not None:
            at = self._handle_positions()[handle]  # the arrow points from the centre through the handle
            direction = math.degrees(math.atan2(at.y() - self._target_centre.y(), at.x() - self._target_centre.x()))
            return ARROW_CURSORS[round(direction / 45.0) % 4]
        if handle is not None:
            return HANDLE_CURSORS[handle]
        return Qt.SizeAllCursor if inside else Qt.ArrowCursor

    def _transform_preview(self, scene_point: QPointF, press: QPointF | None = None) -> None:
        """The drag from ``press`` (by default the one in progress) to ``scene_point``: its state, emitted, and the
        new shape and handles drawn where it takes them."""
        centre, press = self._target_centre, press if press is not None else self._press
        if centre is None or press is None:
            return
        dx, dy, scale_x, scale_y, angle = 0.0, 0.0, 1.0, 1.0, 0.0
        mode, frame = self._transform_mode, self._target_angle
        if mode == "move":
            dx, dy = scene_point.x() - press.x(), scene_point.y() - press.y()
        elif mode in SCALING_MODES:  # measured in the shape's own frame, where its box is upright
            anchor = self._in_frame(self._scale_from if self._scale_from is not None else centre)
            press, scene_point = self._in_frame(press), self._in_frame(scene_point)
            if mode == "scale" and self._shift_held:  # Shift: the corner follows the mouse, each axis on its own
                scale_x = max(MIN_SCALE, (scene_point.x() - anchor.x()) / _away(press.x() - anchor.x()))
                scale_y = max(MIN_SCALE, (scene_point.y() - anchor.y()) / _away(press.y() - anchor.y()))
            elif mode == "scale":
                before = math.hypot(press.x() - anchor.x(), press.y() - anchor.y())
                after = math.hypot(scene_point.x() - anchor.x(), scene_point.y() - anchor.y())
                scale_x = scale_y = max(MIN_SCALE, after / max(before, 1e-6))
            elif mode == "stretch_x":  # the side follows the mouse across; dragged past the anchor it stops there
                scale_x = max(MIN_SCALE, (scene_point.x() - anchor.x()) / _away(press.x() - anchor.x()))
            else:
                scale_y = max(MIN_SCALE, (scene_point.y() - anchor.y()) / _away(press.y() - anchor.y()))
            # Scaling about the anchor is scaling about the centre, then moving by (1 - scale) x (anchor - centre),
            # in the frame; turned back onto the painting.
            shift = QTransform().rotate(frame).map(QPointF((1 - scale_x) * (anchor.x() - centre.x()),
                                                          (1 - scale_y) * (anchor.y() - centre.y())))
            dx, dy = shift.x(), shift.y()
        elif mode == "rotate":
            before = math.atan2(press.y() - centre.y(), press.x() - centre.x())
            after = math.atan2(scene_point.y() - centre.y(), scene_point.x() - centre.x())
            angle = math.degrees(after - before)
            if self._shift_held:  # Shift: the turn snaps to steps of ANGLE_STEP degrees
                angle = ANGLE_STEP * round(angle / ANGLE_STEP)
        self._transform_state = (dx, dy, scale_x, scale_y, angle, frame)
        self.transform_moved.emit(dx, dy, scale_x, scale_y, angle, frame)
        # engine.masks.transform_linear's order: along the frame's axes, then turned.
        transform = (QTransform().translate(centre.x() + dx, centre.y() + dy).rotate(angle + frame)
                     .scale(scale_x, scale_y).rotate(-frame).translate(-centre.x(), -centre.y()))
        self.target_item.setTransform(transform)
        self.target_outline.setTransform(transform)
        self._update_handles(transform)


def _away(offset: float) -> float:
    """``offset`` (a side's distance from its anchor) kept away from 0, with its sign."""
    return offset if abs(offset) >= 1e-6 else math.copysign(1e-6, offset)
