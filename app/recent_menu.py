"""File > Open Recent: the artworks and sessions opened or saved last, read from the settings each time
the menu opens (so two windows, or a file removed meanwhile, are shown as they are now)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QMenu, QWidget

from app.settings import Settings


class RecentFilesMenu(QMenu):
    """Lists :attr:`Settings.recent_files`, newest first; choosing one calls ``open_path`` with it. A file that
    no longer exists is shown greyed out (it may be on a drive not mounted now); Clear empties the list."""

    def __init__(self, settings: Settings, open_path: Callable[[str], None], parent: QWidget | None = None) -> None:
        super().__init__("Open &Recent", parent)
        self.settings = settings
        self.open_path = open_path
        self.setToolTipsVisible(True)
        self.aboutToShow.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        self.clear()
        recent = self.settings.recent_files
        if not recent:
            self.addAction("No recent files").setEnabled(False)
            return
        for number, entry in enumerate(recent, start=1):
            path = Path(entry)
            present = path.exists()
            label = f"&{number % 10} {path.name}" + ("" if present else " (missing)")
            action = self.addAction(label)
            action.setToolTip(entry)
            action.setEnabled(present)
            action.triggered.connect(lambda checked=False, entry=entry: self.open_path(entry))
        self.addSeparator()
        self.addAction("&Clear Recent Files", self._clear)

    def _clear(self) -> None:
        self.settings.clear_recent()
        self.rebuild()
