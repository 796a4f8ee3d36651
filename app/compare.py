"""Side-by-side compare: the original and the current result, zoomed and panned together."""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QDialog, QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.transparency import checker_brush, paint_checkerboard
from app.view_zoom import show_pixels_at, zoom_about


class _SyncedView(QGraphicsView):
    def __init__(self, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.pixmap_item = self.scene().addPixmap(QPixmap.fromImage(image))
        self.pixmap_item.setTransformationMode(Qt.SmoothTransformation)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setBackgroundBrush(QBrush(QColor(48, 48, 52)))  # as the editor's canvas
        self.checker = checker_brush()  # under a transparent painting, as on the canvas
        self.partner: _SyncedView | None = None
        self.zooming = False  # while a wheel zoom runs the panes do not follow each other's scroll bars

    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802
        super().drawBackground(painter, rect)
        if self.pixmap_item.pixmap().hasAlphaChannel():
            paint_checkerboard(self, painter, self.pixmap_item.sceneBoundingRect(), self.checker)

    def follow(self, other: "_SyncedView", across: bool = True, down: bool = True) -> None:
        """Scroll to where ``other`` is scrolled (the panes pan together), across and/or down."""
        if self.zooming or other.zooming:
            return
        if across:
            self.horizontalScrollBar().setValue(other.horizontalScrollBar().value())
        if down:
            self.verticalScrollBar().setValue(other.verticalScrollBar().value())

    def wheelEvent(self, event) -> None:  # noqa: N802
        """Both panes zoom alike, about the pointer in this one; the other then follows its scroll bars."""
        factor = 1.15 ** (event.angleDelta().y() / 120.0)
        views = [view for view in (self, self.partner) if view is not None]
        for view in views:
            view.zooming = True
        try:
            zoom_about(self, factor, event.position())
            if self.partner is not None:
                self.partner.scale(factor, factor)
        finally:
            for view in views:
                view.zooming = False
        if self.partner is not None:
            self.partner.follow(self)
        for view in views:
            view.zoomed()

    def zoomed(self) -> None:
        show_pixels_at(self.transform().m11(), self, (self.pixmap_item,))


class CompareDialog(QDialog):
    def __init__(self, original: QImage, result: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare: original | result")
        self.resize(1200, 640)
        self.left, self.right = _SyncedView(original, self), _SyncedView(result, self)
        self.left.partner, self.right.partner = self.right, self.left
        for first, second in ((self.left, self.right), (self.right, self.left)):  # each bar leads its own axis
            first.horizontalScrollBar().valueChanged.connect(
                lambda _value, leader=first, follower=second: follower.follow(leader, down=False))
            first.verticalScrollBar().valueChanged.connect(
                lambda _value, leader=first, follower=second: follower.follow(leader, across=False))
        layout = QVBoxLayout(self)
        labels = QHBoxLayout()
        labels.addWidget(QLabel("<b>Original</b>"))
        labels.addWidget(QLabel("<b>Result</b> (the wheel zooms both, dragging pans both)"))
        views = QHBoxLayout()
        views.addWidget(self.left)
        views.addWidget(self.right)
        layout.addLayout(labels)
        layout.addLayout(views)

    def set_images(self, original: QImage, result: QImage) -> None:
        """Show a new result (after Apply, Undo or a history jump) without losing the zoom."""
        self.left.pixmap_item.setPixmap(QPixmap.fromImage(original))
        self.right.pixmap_item.setPixmap(QPixmap.fromImage(result))

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        for view in (self.left, self.right):
            view.fitInView(view.sceneRect(), Qt.KeepAspectRatio)
            view.zoomed()
