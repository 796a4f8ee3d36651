"""The history panel: one row per applied edit with a thumbnail; clicking a row goes back to it."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.convert import array_to_qimage


class HistoryPanel(QListWidget):
    step_chosen = Signal(int)  # number of steps applied

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setIconSize(QSize(72, 72))
        self.setToolTip("Applied edits: click one to go back to it (later edits stay redoable)")
        self.itemClicked.connect(lambda item: self.step_chosen.emit(int(item.data(Qt.UserRole))))

    def show_session(self, session) -> None:
        self.blockSignals(True)
        self.clear()
        rows = [("Original", session.original_thumbnail, 0)]
        rows += [(f"{i + 1}. {step.label}", step.thumbnail, i + 1) for i, step in enumerate(session.steps)]
        for text, thumb, position in rows:
            item = QListWidgetItem(QIcon(QPixmap.fromImage(array_to_qimage(thumb))), text)
            item.setData(Qt.UserRole, position)
            if position > session.position:
                item.setForeground(Qt.gray)
            self.addItem(item)
        self.setCurrentRow(session.position)
        self.blockSignals(False)
