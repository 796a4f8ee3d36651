"""Help > Keyboard and Mouse: every menu command that has keys, read from the window's menus when the
dialog opens (so the list follows the actions as they are), and the gestures the canvas knows beyond them."""
from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QHeaderView, QMenuBar, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

#: What the canvas does with the mouse and held keys (no menu command stands for these).
GESTURES: tuple[tuple[str, str], ...] = (
    ("Click (Select tool)", "Select the region under the pointer; further clicks add parts"),
    ("Right click or Alt+click", "Remove the part under the pointer from the selection"),
    ("Drag a box (Select tool)", "Select what the box holds"),
    ("Ctrl or Alt + wheel", "A larger / smaller candidate for the last click"),
    ("Wheel", "Zoom in or out about the pointer"),
    ("Space + drag, or middle drag", "Pan the painting"),
    ("Hold \\", "Show the painting before the edits while held"),
    ("Drag inside the shape (Transform)", "Move the new shape"),
    ("Drag a corner handle (Transform)", "Scale the new shape (Shift: each axis freely)"),
    ("Drag a side handle (Transform)", "Stretch the new shape across or down only"),
    ("Ctrl or Alt + handle drag (Transform)", "Scale or stretch about the shape's centre"),
    ("Drag the round handle (Transform)", "Rotate the new shape (Shift: in steps of 15°)"),
    ("Arrow keys (Transform)", "Move the new shape by one pixel (Shift: ten)"),
    ("Click (Warp)", "Place a pin on the new shape"),
    ("Drag a pin (Warp)", "Bend the new shape around the other pins"),
    ("Right click or Alt+click on a pin (Warp)", "Take the pin away"),
)


def menu_shortcuts(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, command, keys) for each enabled-or-not action with a shortcut in ``menu_bar``'s menus and their
    submenus, in menu order; the keys in the platform's own notation."""
    rows: list[tuple[str, str, str]] = []

    def visit(menu, title: str) -> None:
        for action in menu.actions():
            if action.menu() is not None:
                visit(action.menu(), f"{title} › {action.text().replace('&', '')}")
                continue
            keys = [sequence.toString(QKeySequence.NativeText) for sequence in action.shortcuts()
                    if not sequence.isEmpty()]
            if keys:
                rows.append((title, action.text().replace("&", "").rstrip("…"), ", ".join(keys)))

    for top in menu_bar.actions():
        if top.menu() is not None:
            visit(top.menu(), top.text().replace("&", ""))
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, menu_bar: QMenuBar, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard and Mouse")
        rows = [(keys, f"{command} ({menu})") for menu, command, keys in menu_shortcuts(menu_bar)]
        rows += list(GESTURES)
        self.table = QTableWidget(len(rows), 2, self)
        self.table.setHorizontalHeaderLabels(["Keys or gesture", "Does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        for row, (keys, meaning) in enumerate(rows):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(meaning))
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(640, 560)
