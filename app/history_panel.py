"""The history panel: one row per applied edit with a thumbnail; clicking a row goes back to it.
The current row also lists the last few selection and mask steps made on its image (the undo steps
since its edit), and, after ↷, the one Redo would bring back."""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from app.convert import array_to_qimage


#: How many of the latest mask steps the current row names.
SHOWN_MASK_STEPS = 3
TITLE = Qt.UserRole + 1  # a row's own title, without its mask steps


def thumbnail_icon(thumbnail) -> QIcon:
    """``thumbnail`` (an RGB array) as an icon drawn as it is in every state: by default the style tints a
    selected row's icon with the highlight colour, and the current step's painting then looks blue."""
    pixmap = QPixmap.fromImage(array_to_qimage(thumbnail))
    icon = QIcon()
    for mode in (QIcon.Normal, QIcon.Active, QIcon.Selected):
        icon.addPixmap(pixmap, mode)
    return icon


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
            item = QListWidgetItem(thumbnail_icon(thumb), text)
            item.setData(Qt.UserRole, position)
            item.setData(TITLE, text)
            if position > session.position:
                item.setForeground(Qt.gray)
            self.addItem(item)
        self.setCurrentRow(session.position)
        self.blockSignals(False)

    def show_mask_steps(self, done: list[str], undone: list[str]) -> None:
        """Name the mask steps ``done`` on the current image (oldest first) and the next one Redo
        brings back (``undone``, next first) under the current row's title."""
        for row in range(self.count()):
            item = self.item(row)
            item.setText(item.data(TITLE))
        item = self.currentItem()
        if item is None:
            return
        lines = [item.data(TITLE)] + (["  …"] if len(done) > SHOWN_MASK_STEPS else [])
        lines += [f"  · {label}" for label in done[-SHOWN_MASK_STEPS:]]
        lines += [f"  ↷ {undone[0]}"] if undone else []
        item.setText("\n".join(lines))
