"""The canvas: the artwork with the region and target-mask overlays, zoom/pan, and the tools' mouse work.

The canvas knows nothing about SIM-Net: it shows images and reports what the mouse did, in image
coordinates, through signals. Brush strokes are painted straight into the target overlay image and
only the touched rectangle is redrawn, so painting stays smooth on 8K canvases.
"""
from __future__ import annotations

import math
from enum import Enum

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem, QGraphicsPixmapItem,
                               QGraphicsRectItem, QGraphicsScene, QGraphicsView)

REGION_COLOUR = QColor(40, 200, 90)
TARGET_COLOUR = QColor(235, 60, 60)
HANDLE_SIZE = 10.0


class Tool(Enum):
    SELECT = "select"
    BRUSH = "brush"
    ERASER = "eraser"
    TRANSFORM = "transform"


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


class CanvasView(QGraphicsView):
    point_clicked = Signal(float, float, bool)  # x, y, positive
    box_dragged = Signal(float, float, float, float)
    stroke_started = Signal()
    stroke_finished = Signal()
    transform_finished = Signal(float, float, float, float)  # dx, dy, scale, angle (degrees)
    zoom_changed = Signal(float)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.SmoothPixmapTransform, True)
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setDragMode(QGraphicsView.NoDrag)
        self.setMouseTracking(True)
        self.setBackgroundBrush(QBrush(QColor(48, 48, 52)))
        self.setAcceptDrops(False)  # the main window takes dropped files
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.SmoothTransformation)
        self.preview_item = QGraphicsPixmapItem()
        self.preview_item.setZValue(1)
        self.preview_item.setTransformationMode(Qt.SmoothTransformation)
        self.region_item = ImageOverlayItem(QImage())
        self.region_item.setZValue(2)
        self.region_outline = QGraphicsPathItem()
        self.region_outline.setZValue(3)
        self.target_item = ImageOverlayItem(QImage())
        self.target_item.setZValue(4)
        self.target_outline = QGraphicsPathItem()
        self.target_outline.setZValue(5)
        for item, colour in ((self.region_outline, REGION_COLOUR), (self.target_outline, TARGET_COLOUR)):
            pen = QPen(colour.darker(110), 2)
            pen.setCosmetic(True)
            item.setPen(pen)
        self.rubber_band = QGraphicsRectItem()
        self.rubber_band.setZValue(6)
        band_pen = QPen(QColor(255, 255, 255), 1, Qt.DashLine)
        band_pen.setCosmetic(True)
        self.rubber_band.setPen(band_pen)
        self.rubber_band.hide()
        self.brush_cursor = QGraphicsEllipseItem()
        self.brush_cursor.setZValue(8)
        cursor_pen = QPen(QColor(255, 255, 255), 1)
        cursor_pen.setCosmetic(True)
        self.brush_cursor.setPen(cursor_pen)
        self.brush_cursor.hide()
        self.handles = QGraphicsPathItem()
        self.handles.setZValue(7)
        handle_pen = QPen(QColor(255, 255, 255), 1)
        handle_pen.setCosmetic(True)
        self.handles.setPen(handle_pen)
        self.handles.setBrush(QBrush(QColor(235, 60, 60, 200)))
        for item in (self.image_item, self.preview_item, self.region_item, self.region_outline, self.target_item,
                     self.target_outline, self.rubber_band, self.brush_cursor, self.handles):
            self.scene().addItem(item)

        self.tool = Tool.SELECT
        self.brush_size = 40.0
        self.brush_hardness = 1.0
        self.showing_original = False
        self._pan_from: QPointF | None = None
        self._space_held = False
        self._press: QPointF | None = None
        self._stroke_last: QPointF | None = None
        self._transform_mode: str | None = None
        self._target_centre: QPointF | None = None
        self._target_rect: QRectF | None = None
        self._transform_state = (0.0, 0.0, 1.0, 0.0)

    # -- content -----------------------------------------------------------------------------------
    def set_image(self, image: QImage, *, fit: bool = False) -> None:
        self.image_item.setPixmap(QPixmap.fromImage(image))
        self.scene().setSceneRect(QRectF(0, 0, image.width(), image.height()))
        self.preview_item.hide()
        if fit:
            self.fit()

    def set_preview(self, image: QImage | None) -> None:
        """A reduced-resolution preview shown over the canvas (scaled to the full size)."""
        if image is None:
            self.preview_item.hide()
            return
        full = self.scene().sceneRect()
        self.preview_item.setPixmap(QPixmap.fromImage(image))
        self.preview_item.setTransform(QTransform.fromScale(full.width() / image.width(), full.height() / image.height()))
        self.preview_item.show()

    def set_region_overlay(self, overlay: QImage, outline: QPainterPath) -> None:
        self.region_item.set_image(overlay)
        self.region_outline.setPath(outline)

    def set_target_overlay(self, overlay: QImage, outline: QPainterPath, centre: QPointF | None, rect: QRectF | None) -> None:
        self.target_item.setTransform(QTransform())
        self.target_outline.setTransform(QTransform())
        self.target_item.set_image(overlay)
        self.target_outline.setPath(outline)
        self._target_centre, self._target_rect = centre, rect
        self._update_handles()

    def show_original(self, original: QImage | None) -> None:
        """Before/after: while ``original`` is given, it replaces the canvas image."""
        self.showing_original = original is not None
        if original is not None:
            self._saved_pixmap = self.image_item.pixmap()
            self.image_item.setPixmap(QPixmap.fromImage(original))
            self.preview_item.hide()
        elif hasattr(self, "_saved_pixmap"):
            self.image_item.setPixmap(self._saved_pixmap)

    # -- zoom and pan ------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def fit(self) -> None:
        if not self.scene().sceneRect().isEmpty():
            self.fitInView(self.scene().sceneRect(), Qt.KeepAspectRatio)
            self.zoom_changed.emit(self.zoom)

    def actual_size(self) -> None:
        self.setTransform(QTransform())
        self.zoom_changed.emit(1.0)

    def zoom_by(self, factor: float) -> None:
        new_zoom = min(64.0, max(0.01, self.zoom * factor))
        self.scale(new_zoom / self.zoom, new_zoom / self.zoom)
        self.zoom_changed.emit(self.zoom)

    def wheelEvent(self, event) -> None:  # noqa: N802 - Qt naming
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_by(1.15 ** steps)

    # -- tools -------------------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.tool = tool
        self.brush_cursor.setVisible(tool in (Tool.BRUSH, Tool.ERASER) and self.underMouse())
        self._update_handles()
        self.viewport().setCursor(Qt.CrossCursor if tool in (Tool.SELECT,) else
                                  Qt.BlankCursor if tool in (Tool.BRUSH, Tool.ERASER) else Qt.SizeAllCursor)

    def set_brush(self, size: float, hardness: float) -> None:
        self.brush_size, self.brush_hardness = max(1.0, size), min(1.0, max(0.05, hardness))
        self._place_brush_cursor(self.brush_cursor.rect().center())

    def _place_brush_cursor(self, centre: QPointF) -> None:
        radius = self.brush_size / 2
        self.brush_cursor.setRect(QRectF(centre.x() - radius, centre.y() - radius, 2 * radius, 2 * radius))

    def _paint_segment(self, start: QPointF, end: QPointF) -> None:
        overlay = self.target_item.image
        if overlay.isNull():
            return
        painter = QPainter(overlay)
        painter.setRenderHint(QPainter.Antialiasing, self.brush_hardness < 1.0)
        if self.tool is Tool.ERASER:
            painter.setCompositionMode(QPainter.CompositionMode_Clear)
        colour = QColor(TARGET_COLOUR)
        colour.setAlpha(120)
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

    def _handle_positions(self) -> dict[str, QPointF]:
        if self._target_rect is None:
            return {}
        rect = self._target_rect
        scale = 1.0 / max(self.zoom, 1e-6)
        return {"scale_tl": rect.topLeft(), "scale_tr": rect.topRight(), "scale_bl": rect.bottomLeft(),
                "scale_br": rect.bottomRight(), "rotate": QPointF(rect.center().x(), rect.top() - 30 * scale)}

    def _update_handles(self) -> None:
        path = QPainterPath()
        if self.tool is Tool.TRANSFORM and self._target_rect is not None:
            size = HANDLE_SIZE / max(self.zoom, 1e-6)
            positions = self._handle_positions()
            for name, point in positions.items():
                if name == "rotate":
                    path.addEllipse(point, size / 2, size / 2)
                    path.moveTo(point)
                    path.lineTo(QPointF(point.x(), self._target_rect.top()))
                else:
                    path.addRect(QRectF(point.x() - size / 2, point.y() - size / 2, size, size))
        self.handles.setPath(path)

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
            before = math.hypot(press.x() - centre.x(), press.y() - centre.y())
            after = math.hypot(scene_point.x() - centre.x(), scene_point.y() - centre.y())
            scale = max(0.05, after / max(before, 1e-6))
        elif self._transform_mode == "rotate":
            before = math.atan2(press.y() - centre.y(), press.x() - centre.x())
            after = math.atan2(scene_point.y() - centre.y(), scene_point.x() - centre.x())
            angle = math.degrees(after - before)
        self._transform_state = (dx, dy, scale, angle)
        transform = (QTransform().translate(centre.x() + dx, centre.y() + dy).rotate(angle).scale(scale, scale)
                     .translate(-centre.x(), -centre.y()))
        self.target_item.setTransform(transform)
        self.target_outline.setTransform(transform)

    # -- mouse and keys ----------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MiddleButton or (event.button() == Qt.LeftButton and self._space_held):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.ClosedHandCursor)
            return
        point = self.mapToScene(event.position().toPoint())
        self._press = point
        if self.tool is Tool.SELECT:
            return
        if self.tool in (Tool.BRUSH, Tool.ERASER) and event.button() == Qt.LeftButton:
            self.stroke_started.emit()
            self._stroke_last = point
            self._paint_segment(point, point)
        elif self.tool is Tool.TRANSFORM and event.button() == Qt.LeftButton:
            handle = self._hit_handle(point)
            inside = self._target_rect is not None and self._target_rect.contains(point)
            self._transform_mode = ("rotate" if handle == "rotate" else "scale" if handle else "move" if inside else None)

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
        elif self.tool is Tool.SELECT and self._press is not None and event.buttons() & Qt.LeftButton:
            self.rubber_band.setRect(QRectF(self._press, point).normalized())
            self.rubber_band.show()
        elif self.tool is Tool.TRANSFORM and self._transform_mode is not None:
            self._transform_preview(point)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.set_tool(self.tool)
            return
        point = self.mapToScene(event.position().toPoint())
        press, self._press = self._press, None
        if self.tool is Tool.SELECT and press is not None:
            rect = QRectF(press, point).normalized()
            self.rubber_band.hide()
            if rect.width() * self.zoom > 4 or rect.height() * self.zoom > 4:
                self.box_dragged.emit(rect.left(), rect.top(), rect.right(), rect.bottom())
            else:
                positive = event.button() == Qt.LeftButton and not (event.modifiers() & Qt.AltModifier)
                self.point_clicked.emit(point.x(), point.y(), positive)
        elif self.tool in (Tool.BRUSH, Tool.ERASER) and self._stroke_last is not None:
            self._stroke_last = None
            self.stroke_finished.emit()
        elif self.tool is Tool.TRANSFORM and self._transform_mode is not None:
            self._transform_preview(point)
            self._transform_mode = None
            self.transform_finished.emit(*self._transform_state)

    def leaveEvent(self, event) -> None:  # noqa: N802
        self.brush_cursor.hide()
        super().leaveEvent(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_held = True
            self.viewport().setCursor(Qt.OpenHandCursor)
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key_Space and not event.isAutoRepeat():
            self._space_held = False
            self.set_tool(self.tool)
            return
        super().keyReleaseEvent(event)
