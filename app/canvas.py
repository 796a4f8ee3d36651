"""The canvas: the artwork with the region and target-mask overlays, zoom/pan, and the tools' mouse work.

The canvas knows nothing about SIM-Net: it shows images and reports what the mouse did, in image
coordinates, through signals. Brush strokes are painted straight into the target overlay image and
only the touched rectangle is redrawn, so painting stays smooth on 8K canvases.
"""
from __future__ import annotations

import math
from enum import Enum

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem,
                               QGraphicsRectItem, QGraphicsScene, QGraphicsView)

from app.canvas_items import ImageOverlayItem, OutlineItem, PatchItem
from app.transform_handles import SCALING_MODES, TransformHandles, transform_mode
from app.transparency import checker_brush, paint_checkerboard
from app.view_zoom import show_pixels_at, zoom_about
from app.warp_pins import WarpPins, make_pins_item

REGION_COLOUR = QColor(40, 200, 90)
TARGET_COLOUR = QColor(235, 60, 60)
#: The outline of the area an edit may change (the Reach band): dotted, unlike the region's dashes.
BAND_COLOUR = QColor(255, 225, 80)
BAND_DOTS = [1.5, 1.5]
#: The Restyle tool's exemplar region, when it lies in this painting: blue, dashed apart from the region's.
EXEMPLAR_COLOUR = QColor(70, 170, 255)
REGION_ALPHA = 70  # the fills' opacity (of 255): the painting stays readable under them
TARGET_ALPHA = 110


class Tool(Enum):
    SELECT = "select"
    BRUSH = "brush"
    ERASER = "eraser"
    TRANSFORM = "transform"
    WARP = "warp"  # pins on the new shape; dragging one bends the shape around the others
    EXEMPLAR = "exemplar"  # clicks and boxes pick the Restyle tool's exemplar region, not the selection


#: The tools whose clicks and drags are prompts to the segmenter.
PROMPT_TOOLS = (Tool.SELECT, Tool.EXEMPLAR)
#: A press and release at most this far apart (screen pixels) is a click, not a drag or a box.
CLICK_SLOP = 4.0
#: The Transform tool's arrow keys: the direction each moves the new shape, by one painting pixel (Shift: NUDGE_LARGE).
NUDGES = {Qt.Key_Left: (-1.0, 0.0), Qt.Key_Right: (1.0, 0.0), Qt.Key_Up: (0.0, -1.0), Qt.Key_Down: (0.0, 1.0)}
NUDGE_LARGE = 10.0


class CanvasView(TransformHandles, WarpPins, QGraphicsView):
    point_clicked = Signal(float, float, bool)  # x, y, positive
    box_dragged = Signal(float, float, float, float)
    exemplar_clicked = Signal(float, float)  # x, y: with the exemplar tool, a click picks the exemplar region
    exemplar_boxed = Signal(float, float, float, float)  # ... and a box
    tool_changed = Signal(object)  # the Tool now in use
    stroke_started = Signal()
    stroke_finished = Signal()
    transform_started = Signal(float, float)  # the new shape's centre (x, y), about which it scales and turns
    # dx, dy, scale x, scale y, angle (degrees), and the frame (degrees) the scales run along: the shape's own axes
    # once Transform has turned it (engine.masks.transform_linear)
    transform_moved = Signal(float, float, float, float, float, float)  # while dragging
    transform_finished = Signal(float, float, float, float, float, float)
    transform_missed = Signal(float, float)  # x, y: the Transform tool's click away from the shape and its handles
    pin_added = Signal(float, float)  # x, y: the Warp tool's click away from every pin
    pin_removed = Signal(int)  # a right click on that pin
    pin_moved = Signal(int, float, float)  # that pin is being dragged, now at x, y
    pin_dragged = Signal(int, float, float)  # that pin dragged to x, y
    zoom_changed = Signal(float)
    candidate_step = Signal(int)  # +1: a larger candidate, -1: a smaller one (Ctrl or Alt + wheel)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.NoAnchor)  # zoom_by keeps its own anchor
        self.setDragMode(QGraphicsView.NoDrag)
        self.setMouseTracking(True)
        self.setBackgroundBrush(QBrush(QColor(48, 48, 52)))
        self._checker = checker_brush()  # under a painting with an alpha channel
        self.setAcceptDrops(False)  # the main window takes dropped files
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.SmoothTransformation)
        self.preview_item = PatchItem(self._checker)
        self.preview_item.setZValue(1)
        self.preview_item.setTransformationMode(Qt.SmoothTransformation)
        self.region_item = ImageOverlayItem(QImage())
        self.region_item.setZValue(2)
        # Above the target's outline: where the two coincide (a fresh selection) the line is red and green.
        self.region_outline = OutlineItem(REGION_COLOUR.lighter(120), dashed=True)
        self.region_outline.setZValue(5.5)
        self.target_item = ImageOverlayItem(QImage())
        self.target_item.setZValue(4)
        self.target_outline = OutlineItem(TARGET_COLOUR)
        self.target_outline.setZValue(5)
        self.band_outline = OutlineItem(BAND_COLOUR, dashes=BAND_DOTS)
        self.band_outline.setZValue(4.5)
        self.band_outline.hide()
        self.exemplar_outline = OutlineItem(EXEMPLAR_COLOUR, dashes=[6, 3])
        self.exemplar_outline.setZValue(5.2)
        self.exemplar_outline.hide()
        self.rubber_band = QGraphicsRectItem()
        self.rubber_band.setZValue(6)
        band_pen = QPen(QColor(255, 255, 255), 1.5, Qt.DashLine)
        band_pen.setCosmetic(True)
        self.rubber_band.setPen(band_pen)
        self.rubber_band.setBrush(QBrush(QColor(40, 200, 90, 45)))  # readable on light paint too
        self.rubber_band.hide()
        self.brush_cursor = QGraphicsEllipseItem()
        self.brush_cursor.setZValue(8)
        cursor_pen = QPen(QColor(255, 255, 255), 1)
        cursor_pen.setCosmetic(True)
        self.brush_cursor.setPen(cursor_pen)
        self.brush_cursor.hide()
        # The inner ring shows the hardness: the part of the brush whose edge is kept as painted.
        self.brush_core = QGraphicsEllipseItem(self.brush_cursor)
        core_pen = QPen(QColor(255, 255, 255, 150), 1, Qt.DotLine)
        core_pen.setCosmetic(True)
        self.brush_core.setPen(core_pen)
        self.handles = QGraphicsPathItem()
        self.handles.setZValue(7)
        handle_pen = QPen(QColor(255, 255, 255), 1)
        handle_pen.setCosmetic(True)
        self.handles.setPen(handle_pen)
        self.handles.setBrush(QBrush(QColor(235, 60, 60, 200)))
        self.pins_item = make_pins_item()
        for item in (self.image_item, self.preview_item, self.region_item, self.region_outline, self.target_item,
                     self.target_outline, self.band_outline, self.exemplar_outline, self.rubber_band,
                     self.brush_cursor, self.handles, self.pins_item):
            self.scene().addItem(item)

        self.tool = Tool.SELECT
        self.brush_size = 40.0
        self.brush_hardness = 1.0
        self.showing_original = False
        self._hidden_while_original: list[QGraphicsItem] = []
        self._pan_from: QPointF | None = None
        self._space_held = False
        self._candidate_wheel = 0  # wheel angle (1/8 degree) turned with Ctrl or Alt, not yet a step
        self._press: QPointF | None = None
        self._stroke_last: QPointF | None = None
        self._transform_mode: str | None = None
        self._target_centre: QPointF | None = None
        self._scale_from: QPointF | None = None  # what a corner or side drag scales about (app.transform_handles)
        self._shift_held = False  # Shift held: a corner drag scales each axis on its own, a turn snaps
        self._target_rect: QRectF | None = None  # the new shape's box in its own frame (turned by _target_angle)
        self._target_angle = 0.0  # degrees: how far Transform has turned the new shape; its handles keep that frame
        self._transform_state = (0.0, 0.0, 1.0, 1.0, 0.0, 0.0)
        self._pin_points: list[QPointF] = []
        self._pin_drag: int | None = None

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawBackground(painter, rect)
        if self.image_item.pixmap().hasAlphaChannel():
            paint_checkerboard(self, painter, self.sceneRect(), self._checker)

    # -- content -----------------------------------------------------------------------------------
    def set_image(self, image: QImage, *, fit: bool = False) -> None:
        if self.showing_original:  # a new result while the original is held: show it on release
            self._saved_pixmap = QPixmap.fromImage(image)
        else:
            self.image_item.setPixmap(QPixmap.fromImage(image))
        self.scene().setSceneRect(QRectF(0, 0, image.width(), image.height()))
        self.preview_item.hide()
        if fit:
            self.fit()

    def has_image(self, shape: tuple[int, int]) -> bool:
        """The canvas shows an image of ``shape`` (H, W)."""
        pixmap = self._saved_pixmap if self.showing_original else self.image_item.pixmap()
        return not pixmap.isNull() and (pixmap.height(), pixmap.width()) == tuple(shape)

    def update_image(self, patch: QImage, x0: int, y0: int) -> None:
        """Part of the image changed: ``patch`` replaces the pixels from (x0, y0) on."""
        pixmap = self._saved_pixmap if self.showing_original else self.image_item.pixmap()
        painter = QPainter(pixmap)
        painter.setCompositionMode(QPainter.CompositionMode_Source)
        painter.drawImage(x0, y0, patch)
        painter.end()
        if self.showing_original:
            self._saved_pixmap = pixmap
        else:
            self.image_item.setPixmap(pixmap)
        self.preview_item.hide()

    def set_fills_visible(self, visible: bool) -> None:
        """Show or hide the translucent mask fills; the outlines stay (to look at a preview or a result)."""
        for item in (self.region_item, self.target_item):
            item.setOpacity(1.0 if visible else 0.0)

    def set_preview(self, image: QImage | None, box: tuple[int, int, int, int] | None = None) -> None:
        """A reduced-resolution preview shown over the canvas, scaled to the full size. Only ``box``
        (x0, y0, x1, y1 in the preview's pixels: the part the edit changes) is shown, so the rest of
        the canvas stays sharp. While it is shown the mask fills are hidden: the outlines remain."""
        if image is None:
            self.set_fills_visible(True)
            self.preview_item.hide()
            if self.preview_item in self._hidden_while_original:
                self._hidden_while_original.remove(self.preview_item)
            return
        full = self.scene().sceneRect()
        x0, y0, x1, y1 = box if box is not None else (0, 0, image.width(), image.height())
        self.show_patch(image.copy(x0, y0, x1 - x0, y1 - y0), x0, y0, full.width() / image.width(),
                        full.height() / image.height())

    def show_patch(self, patch: QImage, x0: int, y0: int, scale_x: float, scale_y: float) -> None:
        """A reduced-resolution piece of the painting over the canvas: its pixel (x0, y0) at image point
        (x0 * scale_x, y0 * scale_y), each pixel scale_x by scale_y image pixels (a preview or a live frame)."""
        self.set_fills_visible(False)
        self.preview_item.setPixmap(QPixmap.fromImage(patch))
        self.preview_item.setPos(x0 * scale_x, y0 * scale_y)
        self.preview_item.setTransform(QTransform.fromScale(scale_x, scale_y))
        if self.showing_original:  # shown when the original is let go
            if self.preview_item not in self._hidden_while_original:
                self._hidden_while_original.append(self.preview_item)
            return
        self.preview_item.show()

    def set_band_outline(self, outline: QPainterPath | None) -> None:
        """The dotted outline of the area the edit may change; None hides it."""
        self._show_outline(self.band_outline, outline)

    def set_exemplar_outline(self, outline: QPainterPath | None) -> None:
        """The outline of the Restyle tool's exemplar region in this painting; None hides it."""
        self._show_outline(self.exemplar_outline, outline)

    def _show_outline(self, item: QGraphicsPathItem, outline: QPainterPath | None) -> None:
        """Show ``item`` along ``outline`` (None hides it); while the original is held, only once it is let go."""
        if outline is None:
            item.hide()
            if item in self._hidden_while_original:
                self._hidden_while_original.remove(item)
            return
        item.setPath(outline)
        if self.showing_original:
            if item not in self._hidden_while_original:
                self._hidden_while_original.append(item)
            return
        item.show()

    def set_region_overlay(self, overlay: QImage, outline: QPainterPath, origin: QPointF | None = None) -> None:
        """The region's fill (``overlay``'s top left at ``origin``: it may cover just the region's box)."""
        self.region_item.set_image(overlay)
        self.region_item.setPos(origin if origin is not None else QPointF(0, 0))
        self.region_outline.setPath(outline)

    def set_target_overlay(self, overlay: QImage, outline: QPainterPath, centre: QPointF | None, rect: QRectF | None,
                           angle: float = 0.0) -> None:
        """The new shape's fill and outline; its centre, and its box ``rect`` in its own frame, turned by ``angle``
        degrees about the centre (the Transform tool's handles are drawn on that box)."""
        self.target_item.setTransform(QTransform())
        self.target_outline.setTransform(QTransform())
        self.target_item.set_image(overlay)
        self.target_outline.setPath(outline)
        self._target_centre, self._target_rect, self._target_angle = centre, rect, angle
        self._update_handles()

    def show_original(self, original: QImage | None) -> None:
        """Before/after: while ``original`` is given, it replaces the canvas image, and the preview
        and the mask overlays are hidden; ``None`` puts everything back."""
        if original is not None:
            if not self.showing_original:
                self._saved_pixmap = self.image_item.pixmap()
                self._hidden_while_original = [item for item in (self.preview_item, self.region_item, self.region_outline,
                                                                 self.target_item, self.target_outline,
                                                                 self.band_outline, self.exemplar_outline,
                                                                 self.handles)
                                               if item.isVisible()]
            self.image_item.setPixmap(QPixmap.fromImage(original))
            for item in self._hidden_while_original:
                item.hide()
        elif self.showing_original:
            self.image_item.setPixmap(self._saved_pixmap)
            for item in self._hidden_while_original:
                item.show()
            self._hidden_while_original = []
        self.showing_original = original is not None

    # -- zoom and pan ------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        if not self.scene().sceneRect().isEmpty():
            self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
            self._zoomed()

    def actual_size(self) -> None:
        self.setTransform(QTransform())
        self._zoomed()

    def zoom_by(self, factor: float, at: QPointF | None = None) -> None:
        """Zoom by ``factor`` (within 1 % and 6400 %), keeping the painting's point at ``at`` (viewport pixels;
        default: the viewport's centre) where it is on screen (with Qt's AnchorUnderMouse the wheel zoomed towards
        the painting's top-left corner: this canvas handles its own mouse moves)."""
        new_zoom = min(64.0, max(0.01, self.zoom * factor))
        zoom_about(self, new_zoom / self.zoom, at if at is not None else QPointF(self.viewport().rect().center()))
        self._zoomed()

    def _zoomed(self) -> None:
        show_pixels_at(self.zoom, self, (self.image_item,))  # the preview, often reduced, stays smooth
        self._update_handles()  # handles keep their size on screen
        self._draw_pins()  # and so do pins
        self.zoom_changed.emit(self.zoom)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt naming
        if event.modifiers() & (Qt.ControlModifier | Qt.AltModifier):  # Alt may turn the wheel sideways
            self._candidate_wheel += event.angleDelta().y() or event.angleDelta().x()
            if abs(self._candidate_wheel) >= 120:  # one notch; a touchpad's small deltas add up to it
                self.candidate_step.emit(1 if self._candidate_wheel > 0 else -1)
                self._candidate_wheel = 0
            return
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps, event.position())

    # -- tools -------------------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        changed = tool is not self.tool
        self.tool = tool
        self.brush_cursor.setVisible(tool in (Tool.BRUSH, Tool.ERASER) and self.underMouse())
        self._update_handles()
        self._draw_pins()
        self.viewport().setCursor(Qt.CrossCursor if tool in (Tool.SELECT, Tool.WARP) else
                                  Qt.PointingHandCursor if tool is Tool.EXEMPLAR else
                                  Qt.BlankCursor if tool in (Tool.BRUSH, Tool.ERASER) else Qt.SizeAllCursor)
        if changed:
            self.tool_changed.emit(tool)

    def set_brush(self, size: float, hardness: float) -> None:
        self.brush_size, self.brush_hardness = max(1.0, size), min(1.0, max(0.05, hardness))
        self._place_brush_cursor(self.brush_cursor.rect().center())

    def _place_brush_cursor(self, centre: QPointF) -> None:
        radius = self.brush_size / 2
        self.brush_cursor.setRect(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))
        core = radius * self.brush_hardness
        self.brush_core.setRect(QRectF(centre.x() - core, centre.y() - core, 2 * core, 2 * core))
        self.brush_core.setVisible(self.brush_hardness < 1.0)

    def _paint_segment(self, start: QPointF, end: QPointF) -> None:
        overlay = self.target_item.image
        if overlay.isNull():
            return
        painter = QPainter(overlay)
        painter.setRenderHint(QPainter.Antialiasing, self.brush_hardness < 1.0)
        if self.tool is Tool.ERASER:
            painter.setCompositionMode(QPainter.CompositionMode_Clear)
        colour = QColor(TARGET_COLOUR)
        colour.setAlpha(TARGET_ALPHA)
        pen = QPen(colour, self.brush_size, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
        painter.setPen(pen)
        if start == end:
            painter.setBrush(colour)
            painter.setPen(Qt.NoPen)
            painter.drawEllipse(start, self.brush_size / 2, self.brush_size / 2)
        else:
            painter.drawLine(start, end)
        painter.end()
        margin = self.brush_size / 2 + 2
        dirty = QRectF(start, end).normalized().adjusted(-margin, -margin, margin, margin)
        self.target_item.update(dirty)

    def handles_wanted(self) -> bool:
        return self.tool is Tool.TRANSFORM

    def pins_wanted(self) -> bool:
        return self.tool is Tool.WARP

    # -- mouse and keys ----------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space_held):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            return
        point = self.mapToScene(event.position().toPoint())
        self._press = point
        if self.tool in PROMPT_TOOLS:
            return
        if self.tool in (Tool.BRUSH, Tool.ERASER) and event.button() == Qt.LeftButton:
            self.stroke_started.emit()
            self._stroke_last = point
            self._paint_segment(point, point)
        elif self.tool is Tool.TRANSFORM and event.button() == Qt.LeftButton:
            handle, inside = self._handle_under(point)
            self._transform_mode = transform_mode(handle, inside)
            about_centre = bool(event.modifiers() & (Qt.AltModifier | Qt.ControlModifier))
            scales = self._transform_mode in SCALING_MODES
            self._scale_from = self._scale_anchor(handle, about_centre) if scales else None
            if self._transform_mode is not None and self._target_centre is not None:
                self.transform_started.emit(self._target_centre.x(), self._target_centre.y())
        elif self.tool is Tool.WARP and event.button() in (Qt.LeftButton, Qt.RightButton):
            self._pin_press(point, event.button() == Qt.LeftButton and not (event.modifiers() & Qt.AltModifier))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            return
        point = self.mapToScene(event.position().toPoint())
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            self._place_brush_cursor(point)
            self.brush_cursor.show()
            if self._stroke_last is not None:
                self._paint_segment(self._stroke_last, point)
                self._stroke_last = point
        elif self.tool in PROMPT_TOOLS and self._press is not None and event.buttons() & Qt.LeftButton:
            self.rubber_band.setRect(QRectF(self._press, point).normalized())
            self.rubber_band.show()
        elif self.tool is Tool.TRANSFORM and self._transform_mode is not None:
            self._shift_held = bool(event.modifiers() & Qt.ShiftModifier)
            self._transform_preview(point)
        elif self.tool is Tool.TRANSFORM and not event.buttons():
            self.viewport().setCursor(self._transform_cursor(point))
        elif self.tool is Tool.WARP:
            self._pin_move(point)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.set_tool(self.tool)
            return
        point = self.mapToScene(event.position().toPoint())
        press, self._press = self._press, None
        if self.tool in PROMPT_TOOLS and press is not None:
            rect = QRectF(press, point).normalized()
            self.rubber_band.hide()
            positive = event.button() == Qt.LeftButton and not (event.modifiers() & Qt.AltModifier)
            if rect.width() * self.zoom > CLICK_SLOP or rect.height() * self.zoom > CLICK_SLOP:
                if self.tool is Tool.EXEMPLAR:
                    self.exemplar_boxed.emit(rect.left(), rect.top(), rect.right(), rect.bottom())
                else:
                    self.box_dragged.emit(rect.left(), rect.top(), rect.right(), rect.bottom())
            elif self.tool is Tool.EXEMPLAR:
                if positive:
                    self.exemplar_clicked.emit(point.x(), point.y())
            else:
                self.point_clicked.emit(point.x(), point.y(), positive)
        elif self.tool in (Tool.BRUSH, Tool.ERASER) and self._stroke_last is not None:
            self._stroke_last = None
            self.stroke_finished.emit()
        elif self.tool is Tool.TRANSFORM and self._transform_mode is not None:
            self._shift_held = bool(event.modifiers() & Qt.ShiftModifier)
            self._transform_preview(point, press)  # the drag ends where it was let go, as the keys say then
            self._transform_mode = None
            self.transform_finished.emit(*self._transform_state)
        elif self.tool is Tool.TRANSFORM and press is not None and event.button() == Qt.LeftButton:
            moved = math.hypot(point.x() - press.x(), point.y() - press.y()) * self.zoom
            if moved <= CLICK_SLOP:
                self.transform_missed.emit(point.x(), point.y())
        elif self.tool is Tool.WARP:
            self._pin_release(point)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.brush_cursor.hide()
        super().leaveEvent(event)

    def event(self, event) -> bool:  # noqa: D102
        # Tab and Shift+Tab step a click's candidates (window actions, which take the key first); with no candidate
        # that way they do nothing, rather than move the keyboard focus to a toolbar field, where the tools'
        # one-key shortcuts would stop working.
        if event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Tab, Qt.Key_Backtab):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        if self.tool is Tool.TRANSFORM and event.key() in NUDGES and self._nudge(event):
            return
        super().keyPressEvent(event)

    def _nudge(self, event) -> bool:
        """An arrow key with the Transform tool moves the new shape by one painting pixel (ten with Shift), one
        undo step a press, as a drag would; False when there is no shape to move (the view scrolls instead)."""
        if self._target_centre is None or self._transform_mode is not None:
            return False
        step = NUDGE_LARGE if event.modifiers() & Qt.ShiftModifier else 1.0
        dx, dy = NUDGES[event.key()]
        self.transform_started.emit(self._target_centre.x(), self._target_centre.y())
        self.transform_finished.emit(dx * step, dy * step, 1.0, 1.0, 0.0, self._target_angle)
        return True

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.set_tool(self.tool)
            return
        super().keyReleaseEvent(event)
