"""Hands callbacks from engine worker threads to the GUI thread (a queued Qt signal)."""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot


class GuiThreadBridge(QObject):
    _deliver = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._deliver.connect(self._run)

    def wrap(self, handler: Callable[..., Any]) -> Callable[..., None]:
        """A callback, safe to call from any thread, that runs ``handler`` on the GUI thread."""
        return lambda *args: self._deliver.emit(lambda: handler(*args))

    @Slot(object)
    def _run(self, call: Callable[[], Any]) -> None:
        call()
