"""What the editor's controllers share, and nothing more: the open document, whether an Apply is
running, the bridge that brings worker results to the GUI thread, and the signals by which the
controllers react to each other (no controller reaches into another's widgets).

Who emits what:

- ``document_replaced``: SessionController opened an artwork or a session (the document is new);
- ``masks_replaced``: a command outside the selection controller set both masks (a candidate step,
  a mask tool on the selection, an undo or redo of a mask step, an Apply): they are drawn anew
  and the preview is stale;
- ``target_reshaped(after_transform)``: a stroke, a transform or a mask tool reshaped the new shape:
  it is drawn anew and the refined preview follows at once;
- ``masks_shown``: the selection controller drew the masks (the live plate, the reach band and the
  candidate label follow them);
- ``image_changed(box)``: the image changed under the selection (an Apply, an undo, a redo, a move
  in the history), inside ``box`` (x0, y0, x1, y1) when that is known, else anywhere (None);
- ``history_shown``: SessionController showed an undo, a redo or a move in the history (after
  ``masks_replaced``): the painting is shown as it now is, with no preview of the selection's reshape
  until the shapes or the reach change (an undone edit's shapes come back, but the undo must be seen);
- ``actions_changed``: something that enables or disables actions changed;
- ``message(text)``, ``error(title, text)``: for the status bar (and a dialog, for errors).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEventLoop, QObject, Signal

from app.bridge import GuiThreadBridge
from engine.atomic import same_file
from engine.document import Document


class Workspace(QObject):
    document_replaced = Signal()
    masks_replaced = Signal()
    target_reshaped = Signal(bool)
    masks_shown = Signal()
    image_changed = Signal(object)  # the changed box (x0, y0, x1, y1), or None: anywhere
    history_shown = Signal()
    actions_changed = Signal()
    message = Signal(str)
    error = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bridge = GuiThreadBridge(self)
        #: The artwork being edited, its selection and its undo stack; None before an image is opened.
        self.document: Document | None = None
        #: The last error reported (status bar, dialog), for the command line and tests to read.
        self.last_error: str | None = None
        self._applying = False

    # -- the one place that says an Apply is running ------------------------------------------------
    @property
    def applying(self) -> bool:
        """An Apply is running: nothing may change the image or the masks until it ends."""
        return self._applying

    @applying.setter
    def applying(self, value: bool) -> None:
        self._applying = value
        self.actions_changed.emit()

    def wait_for_apply(self, doing: str) -> None:
        """Return once no Apply runs, at once when none does, so that a save or an export asked for during an
        Apply writes the painting with that edit (it wrote the one before, and the edit landed after it).
        The window stays live meanwhile (a local event loop; Ctrl+. still cancels the Apply). ``doing``
        (e.g. "Saving") is said in the status bar while it waits. Closing the window or opening another file
        waits too, so the question about unsaved work counts the edit."""
        if not self._applying:
            return
        self.say(f"{doing} once the edit being applied is done…")
        loop = QEventLoop()
        self.actions_changed.connect(loop.quit)  # an Apply's end emits it (after its result joins the document)
        try:
            while self._applying:
                loop.exec()
        finally:
            self.actions_changed.disconnect(loop.quit)

    # -- reading the document ------------------------------------------------------------------------
    @property
    def region(self) -> np.ndarray:
        """The selected region (a boolean mask of the image's size; empty without a document)."""
        return self.document.region if self.document is not None else np.zeros((0, 0), bool)

    @property
    def target(self) -> np.ndarray:
        """The new shape (a boolean mask of the image's size; empty without a document)."""
        return self.document.target if self.document is not None else np.zeros((0, 0), bool)

    def is_artwork(self, path: str | Path) -> bool:
        """Whether ``path`` names the open artwork's own file (a write there needs the user's word, or is refused)."""
        artwork = self.document.session.artwork.path if self.document is not None else None
        return artwork is not None and same_file(artwork, Path(path))

    @property
    def has_region(self) -> bool:
        return self.document is not None and bool(self.document.region.any())

    def say(self, text: str) -> None:
        self.message.emit(text)

    def fail(self, title: str, error: BaseException | str) -> None:
        self.last_error = str(error)
        self.error.emit(title, str(error))
