"""Sessions and history: open an artwork or a ``.simnet`` session, save it, undo and redo through
the document's one undo stack, move through the History panel, autosave, and offer recovery after
a crash.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine import autosave
from engine.document import Change, Document, StepKind
from engine.errors import SimNetError
from engine.imageio import load_image
from engine.session import EditSession, load_session, save_session
from engine.worker import Worker

if TYPE_CHECKING:
    from app.main_window import MainWindow

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp);;All files (*)"
SESSION_FILTER = "SIM-Net sessions (*.simnet)"
AUTOSAVE_DELAY_MS = 3000


class SessionController(QObject):
    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.path: Path | None = None  # the .simnet file this session was opened from or saved to
        self.session_id = autosave.new_session_id()
        #: Autosaves recovered into this window, deleted once its own autosave is written.
        self.recovered_autosaves: list[Path] = []
        self.autosave_worker = Worker("simnet-autosave")
        self.autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)

    # -- opening and saving ------------------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """Ask before losing unsaved work; True when it is fine to go on."""
        window = self.window
        if window.session is None or not window.session.dirty or not window.isVisible():
            return True
        answer = QMessageBox.question(window, "Unsaved changes", "Save the changes to this session first?",
                                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open artwork", self.window.settings.last_folder, IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path: str | Path) -> bool:
        if not self.confirm_discard():
            return False
        try:
            artwork = load_image(path)
        except SimNetError as error:
            self.window.show_error("Cannot open the image", error)
            return False
        self.window.settings.last_folder = str(Path(path).parent)
        self._start(EditSession(artwork), None)
        return True

    def choose_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open session", self.window.settings.last_folder,
                                              SESSION_FILTER)
        if path:
            self.open_session(path)

    def open_session(self, path: str | Path, *, recovered: bool = False) -> bool:
        if not self.confirm_discard():
            return False
        try:
            session = load_session(path)
        except SimNetError as error:
            self.window.show_error("Cannot open the session", error)
            return False
        self._start(session, None if recovered else Path(path))
        if recovered:
            session.dirty = True
            self.window.update_actions()
        return True

    def _start(self, session: EditSession, path: Path | None) -> None:
        window = self.window
        autosave.discard(autosave.autosave_path(self.session_id))
        window.edits.worker.cancel_all()
        window.live.forget()
        window.document, self.path = Document(session), path
        window.exporter.forget_session()
        self.session_id = autosave.new_session_id()
        window.canvas.set_image(window.current_qimage(), fit=True)
        window.selection.drop_selection()
        window.history.show_session(session)
        window.update_compare()
        window.selection.prepare_segmenter()
        window.warm_up_model()
        window.update_actions()
        window.show_message(f"{session.shape[1]}×{session.shape[0]} — click a region to select it.")

    def save(self) -> bool:
        if self.window.session is None:
            return False
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        session = self.window.session
        if session is None:
            return False
        suggested = str(Path(self.window.settings.last_folder or ".") / "untitled.simnet")
        if session.artwork.path:
            suggested = str(session.artwork.path.with_suffix(".simnet"))
        path, _ = QFileDialog.getSaveFileName(self.window, "Save session", suggested, SESSION_FILTER)
        if not path:
            return False
        if not path.endswith(".simnet"):
            path += ".simnet"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        try:
            save_session(path, self.window.session)
        except SimNetError as error:
            self.window.show_error("Cannot save the session", error)
            return False
        self.path = path
        self.window.show_message(f"Saved {path}")
        self.window.update_actions()
        return True

    # -- history -----------------------------------------------------------------------------------
    def undo(self) -> None:
        window = self.window
        if window.document is None or window.edits.applying:
            return
        label = window.document.undo_label
        change = window.document.undo()
        if change is not None:
            self._show_change(change)
            window.show_message("Edit undone: its region and new shape are selected again (Esc clears them)."
                                if change.kind is StepKind.EDIT else f"Undone: {label} (Ctrl+Shift+Z redoes it).")

    def redo(self) -> None:
        window = self.window
        if window.document is None or window.edits.applying:
            return
        label = window.document.redo_label
        change = window.document.redo()
        if change is not None:
            self._show_change(change)
            window.show_message(f"Redone: {label}.")

    def go_to_step(self, position: int) -> None:
        window = self.window
        if window.document is None or window.edits.applying:
            return
        self._show_change(window.document.go_to(position))
        total = len(window.session.steps)
        window.show_message(("The original artwork" if position == 0 else f"After edit {position} of {total}")
                            + (": later edits stay in the history until a new edit is applied." if position < total
                               else "."))

    def _show_change(self, change: Change) -> None:
        """Show what an undo, a redo or a move through the history changed."""
        window = self.window
        if change.image:  # the image changed under the selection: its clicks are void
            window.selection.forget_prompts()
            window.show_current()
            window.selection.prepare_segmenter(announce=False)
            self.autosave_soon()
        window.selection.show_masks()
        window.canvas.set_preview(None)
        if not change.image:
            window.edits.preview_timer.start()
        window.update_actions()

    # -- autosave and recovery ---------------------------------------------------------------------
    def autosave_soon(self) -> None:
        self.autosave_timer.start()

    def autosave_now(self) -> None:
        window = self.window
        if window.session is None or not window.session.steps:
            return
        document, session_id = window.document, self.session_id
        saved = document.snapshot()  # the image is lent, not copied: no pause on 8K canvases

        def written(_) -> None:
            document.return_image(saved.current)
            self._drop_recovered_autosaves()

        def failed(error: BaseException) -> None:
            document.return_image(saved.current)
            window.show_message(f"Autosave failed: {error}")

        self.autosave_worker.submit(lambda token: autosave.write_autosave(saved, session_id),
                                    on_done=window.bridge.wrap(written), on_error=window.bridge.wrap(failed),
                                    on_cancelled=window.bridge.wrap(lambda: document.return_image(saved.current)),
                                    supersede=True)

    def _drop_recovered_autosaves(self) -> None:
        """A recovered autosave is removed only once this session's own autosave holds its work."""
        for path in self.recovered_autosaves:
            autosave.discard(path)
        self.recovered_autosaves.clear()

    def offer_recovery(self) -> None:
        """Offer each autosave of a session that did not close, newest first: recover it, discard
        it, or keep it for later. Nothing is deleted that the user did not choose to delete."""
        window = self.window
        found = autosave.find_recoverable(exclude=self.session_id)
        for index, item in enumerate(found):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.modified))
            text = (f"SIM-Net Studio did not close properly. Recover the session autosaved at {when}"
                    f"{' for ' + Path(item.source).name if item.source else ''}?")
            later = len(found) - index - 1
            if later:
                text += f"\n\n{later} more autosaved session{'s' if later > 1 else ''} will be offered after this one."
            text += "\n\nDiscard deletes this autosave; Cancel keeps it for the next start."
            answer = QMessageBox.question(window, "Recover unsaved work?", text,
                                          QMessageBox.Yes | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Yes)
            if answer == QMessageBox.Discard:
                autosave.discard(item.path)
                continue
            if answer == QMessageBox.Yes and self.open_session(item.path, recovered=True):
                self.recovered_autosaves.append(item.path)
                self.autosave_now()
                if later:
                    window.show_message(f"{later} more autosaved session{'s are' if later > 1 else ' is'} kept; "
                                        "they will be offered the next time SIM-Net Studio starts.")
            return

    def shutdown(self, timeout: float) -> None:
        """Finish the autosave in flight and start no other (a pending one would otherwise fire into
        the stopped worker)."""
        self.autosave_timer.stop()
        self.autosave_worker.shutdown(timeout)

    def discard_autosave(self) -> None:
        """The window closed cleanly (after ``shutdown``): remove this session's autosave."""
        autosave.discard(autosave.autosave_path(self.session_id))
