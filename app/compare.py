"""Side-by-side compare: the original and the current result, zoomed and panned together."""
from __future__ import annotations

from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QDialog, QGraphicsScene, QGraphicsView, QHBoxLayout, QLabel, QVBoxLayout, QWidget


class _SyncedView(QGraphicsView):
    def __init__(self, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.scene().addPixmap(QPixmap.fromImage(image))
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.partner: _SyncedView | None = None

    def wheelEvent(self, event) -> None:  # noqa: N802
        factor = 1.15 ** (event.angleDelta().y() / 120.0)
        for view in (self, self.partner):
            if view is not None:
                view.scale(factor, factor)


class CompareDialog(QDialog):
    def __init__(self, original: QImage, result: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare: original | result")
        self.resize(1200, 640)
        self.left, self.right = _SyncedView(original, self), _SyncedView(result, self)
        self.left.partner, self.right.partner = self.right, self.left
        for first, second in ((self.left, self.right), (self.right, self.left)):
            first.horizontalScrollBar().valueChanged.connect(second.horizontalScrollBar().setValue)
            first.verticalScrollBar().valueChanged.connect(second.verticalScrollBar().setValue)
        layout = QVBoxLayout(self)
        labels = QHBoxLayout()
        labels.addWidget(QLabel("Original"))
        labels.addWidget(QLabel("Result"))
        views = QHBoxLayout()
        views.addWidget(self.left)
        views.addWidget(self.right)
        layout.addLayout(labels)
        layout.addLayout(views)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        for view in (self.left, self.right):
            view.fitInView(view.sceneRect(), 1)
