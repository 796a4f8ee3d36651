"""Sessions and history: open an artwork or a ``.simnet`` session, save it, undo and redo through
the document's one undo stack, move through the History panel, autosave, and offer recovery after
a crash.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.file_filters import IMAGE_FILTER
from app.settings import Settings
from app.workspace import Workspace
from engine import autosave
from engine.document import Change, Document, StepKind
from engine.errors import SimNetError
from engine.imageio import load_image
from engine.session import EditSession, load_session, save_session
from engine.worker import Worker

SESSION_FILTER = "SIM-Net sessions (*.simnet)"
AUTOSAVE_DELAY_MS = 3000


class SessionController(QObject):
    """Opens, saves and autosaves the document, and moves through its history. A new document is
    announced with ``workspace.document_replaced``; what an undo or redo changed with
    ``workspace.image_changed`` and ``workspace.masks_replaced``."""

    def __init__(self, workspace: Workspace, settings: Settings, dialog_parent: QWidget) -> None:
        super().__init__(workspace)
        self.workspace, self.settings, self.dialog_parent = workspace, settings, dialog_parent
        self.path: Path | None = None  # the .simnet file this session was opened from or saved to
        self.session_id = autosave.new_session_id()
        #: Autosaves recovered into this window, deleted once its own autosave is written.
        self.recovered_autosaves: list[Path] = []
        self.autosave_worker = Worker("simnet-autosave")
        #: Reads the files the dialogs, a drop and the command line open (an 8K PNG decodes for a second).
        self.reader = Worker("simnet-open")
        self.autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)
        workspace.image_changed.connect(lambda box: self.autosave_soon())
        workspace.target_reshaped.connect(lambda after_transform: self.autosave_soon())  # a shape is work too
        workspace.masks_replaced.connect(self.autosave_soon)

    @property
    def session(self) -> EditSession | None:
        return self.workspace.document.session if self.workspace.document is not None else None

    # -- opening and saving ------------------------------------------------------------------------
    def confirm_discard(self) -> bool:
        """Ask before losing unsaved work; True when it is fine to go on."""
        if self.dialog_parent.isVisible():
            self.workspace.wait_for_apply("Continuing")  # an edit being applied is work to ask about
        document = self.workspace.document
        if document is None or not document.has_unsaved_work or not self.dialog_parent.isVisible():
            return True
        answer = QMessageBox.question(self.dialog_parent, "Unsaved changes", "Save the changes to this session first?",
                                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open artwork", self.settings.last_folder,
                                              IMAGE_FILTER)
        if path:
            self.open_in_background(path)

    def open_in_background(self, path: str | Path) -> None:
        """Open an artwork or a ``.simnet`` session as the dialogs, a drop and the command line do: the file is
        read on a worker while the window stays live, and the document is replaced once it is read. A file
        that cannot be read is said so and nothing changes; a second open while one is read replaces it."""
        if not self.confirm_discard():
            return
        path = Path(path)
        is_session = path.suffix.lower() == ".simnet"
        document = self.workspace.document
        version = document.image_version if document is not None else None

        def run(token) -> EditSession:
            return load_session(path) if is_session else EditSession(load_image(path))

        def done(session: EditSession) -> None:
            now = self.workspace.document
            if now is not document:
                return  # something else was opened meanwhile
            if now is not None and now.image_version != version and not self.confirm_discard():
                return  # edited while the file was read: ask again before losing that
            self._remember(path)
            self._start(session, path if is_session else None)

        def failed(error: BaseException) -> None:
            self.workspace.fail("Cannot open the session" if is_session else "Cannot open the image", error)

        self.workspace.say(f"Opening {path.name}…")
        bridge = self.workspace.bridge
        self.reader.submit(run, on_done=bridge.wrap(done), on_error=bridge.wrap(failed))

    def open_image(self, path: str | Path) -> bool:
        """Open an artwork at once (the window waits); False when it cannot be read or the user keeps the work."""
        session = self._read_now(lambda: EditSession(load_image(path)), "Cannot open the image")
        if session is None:
            return False
        self._remember(Path(path))
        self._start(session, None)
        return True

    def choose_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Open session", self.settings.last_folder,
                                              SESSION_FILTER)
        if path:
            self.open_in_background(path)

    def open_session(self, path: str | Path, *, recovered: bool = False) -> bool:
        """Open a ``.simnet`` session at once (a recovered autosave opens unsaved, with no file of its own)."""
        session = self._read_now(lambda: load_session(path), "Cannot open the session")
        if session is None:
            return False
        if not recovered:
            self.settings.add_recent(path)
        self._start(session, None if recovered else Path(path))
        if recovered:
            session.dirty = True
            self.workspace.actions_changed.emit()
        return True

    def _remember(self, path: Path) -> None:
        """An opened file: its folder is where the next Open dialog starts, and it heads Open Recent."""
        self.settings.last_folder = str(path.parent)
        self.settings.add_recent(path)

    def _read_now(self, read: Callable[[], EditSession], failure: str) -> EditSession | None:
        """``read()`` once the user agrees to leave the work open now; None (said so) when it fails."""
        if not self.confirm_discard():
            return None
        try:
            return read()
        except SimNetError as error:
            self.workspace.fail(failure, error)
            return None

    def _start(self, session: EditSession, path: Path | None) -> None:
        autosave.discard(autosave.autosave_path(self.session_id))
        self.workspace.document, self.path = Document(session), path
        self.session_id = autosave.new_session_id()
        self.workspace.document_replaced.emit()
        self.workspace.say(f"{session.shape[1]}×{session.shape[0]} — click a region to select it.")

    def save(self) -> bool:
        if self.session is None:
            return False
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        session = self.session
        if session is None:
            return False
        suggested = str(Path(self.settings.last_folder or ".") / "untitled.simnet")
        if session.artwork.path:
            suggested = str(session.artwork.path.with_suffix(".simnet"))
        path, _ = QFileDialog.getSaveFileName(self.dialog_parent, "Save session", suggested, SESSION_FILTER)
        if not path:
            return False
        if not path.endswith(".simnet"):
            path += ".simnet"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        self.workspace.wait_for_apply("Saving")
        document = self.workspace.document
        if document is None:
            return False
        saved = document.snapshot()  # with the selection being worked on
        try:
            save_session(path, saved)
        except SimNetError as error:
            self.workspace.fail("Cannot save the session", error)
            return False
        finally:
            document.return_image(saved.current)
        document.saved(saved)
        self.path = path
        self._drop_autosaves()
        self.settings.add_recent(path)
        self.workspace.say(f"Saved {path}")
        self.workspace.actions_changed.emit()
        return True

    # -- history -----------------------------------------------------------------------------------
    def undo(self) -> None:
        document = self.workspace.document
        if document is None or self.workspace.applying:
            return
        label = document.undo_label
        change = document.undo()
        if change is not None:
            self._show_change(change)
            self.workspace.say("Edit undone: its region and new shape are selected again (Esc clears them)."
                               if change.kind is StepKind.EDIT else f"Undone: {label} (Ctrl+Shift+Z redoes it).")

    def redo(self) -> None:
        document = self.workspace.document
        if document is None or self.workspace.applying:
            return
        label = document.redo_label
        change = document.redo()
        if change is not None:
            self._show_change(change)
            self.workspace.say(f"Redone: {label}.")

    def go_to_step(self, position: int) -> None:
        document = self.workspace.document
        if document is None or self.workspace.applying:
            return
        self._show_change(document.go_to(position))
        total = len(document.session.steps)
        self.workspace.say(("The original artwork" if position == 0 else f"After edit {position} of {total}")
                           + (": later edits stay in the history until a new edit is applied." if position < total
                              else "."))

    def _show_change(self, change: Change) -> None:
        """Announce what an undo, a redo or a move through the history changed."""
        if change.image:  # the image changed under the selection: its clicks are void
            self.workspace.image_changed.emit(change.box)
        self.workspace.masks_replaced.emit()
        self.workspace.history_shown.emit()
        self.workspace.actions_changed.emit()

    # -- autosave and recovery ---------------------------------------------------------------------
    def autosave_soon(self) -> None:
        self.autosave_timer.start()

    def autosave_now(self) -> None:
        workspace = self.workspace
        if self.session is None or not workspace.document.has_unsaved_work:
            return  # nothing a crash could lose (an opened session is on disk already)
        document, session_id = workspace.document, self.session_id
        saved = document.snapshot()  # the image is lent, not copied: no pause on 8K canvases

        def written(_) -> None:
            document.return_image(saved.current)
            self._drop_recovered_autosaves()

        def failed(error: BaseException) -> None:
            document.return_image(saved.current)
            workspace.say(f"Autosave failed: {error}")

        self.autosave_worker.submit(lambda token: autosave.write_autosave(saved, session_id),
                                    on_done=workspace.bridge.wrap(written), on_error=workspace.bridge.wrap(failed),
                                    on_cancelled=workspace.bridge.wrap(lambda: document.return_image(saved.current)),
                                    supersede=True)

    def _drop_autosaves(self) -> None:
        """The work is saved: this window's autosave, and those it recovered, hold nothing the file does not, so
        a crash after a save offers no recovery of it. This window's own is removed by the autosave worker, after
        a write in flight (a pending one is dropped; the next change autosaves again)."""
        self.autosave_timer.stop()
        self._drop_recovered_autosaves()
        own = autosave.autosave_path(self.session_id)
        self.autosave_worker.submit(lambda token: autosave.discard(own))

    def _drop_recovered_autosaves(self) -> None:
        """A recovered autosave is removed only once this session's own autosave holds its work."""
        for path in self.recovered_autosaves:
            autosave.discard(path)
        self.recovered_autosaves.clear()

    def offer_recovery(self) -> None:
        """Offer each autosave of a session that did not close, newest first: recover it, discard
        it, or keep it for later. Nothing is deleted that the user did not choose to delete."""
        found = autosave.find_recoverable(exclude=self.session_id)
        for index, item in enumerate(found):
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(item.modified))
            text = (f"SIM-Net Studio did not close properly. Recover the session autosaved at {when}"
                    f"{' for ' + Path(item.source).name if item.source else ''}?")
            later = len(found) - index - 1
            if later:
                text += f"\n\n{later} more autosaved session{'s' if later > 1 else ''} will be offered after this one."
            text += "\n\nDiscard deletes this autosave; Cancel keeps it for the next start."
            answer = QMessageBox.question(self.dialog_parent, "Recover unsaved work?", text,
                                          QMessageBox.Yes | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Yes)
            if answer == QMessageBox.Discard:
                autosave.discard(item.path)
                continue
            if answer == QMessageBox.Yes and self.open_session(item.path, recovered=True):
                self.recovered_autosaves.append(item.path)
                self.autosave_now()
                if later:
                    self.workspace.say(f"{later} more autosaved session{'s are' if later > 1 else ' is'} kept; "
                                        "they will be offered the next time SIM-Net Studio starts.")
            return

    def shutdown(self, timeout: float) -> None:
        """Finish the autosave in flight and start no other (a pending one would otherwise fire into
        the stopped worker)."""
        self.autosave_timer.stop()
        self.reader.shutdown(timeout)
        self.autosave_worker.shutdown(timeout)

    def discard_autosave(self) -> None:
        """The window closed cleanly (after ``shutdown``): remove this session's autosave."""
        autosave.discard(autosave.autosave_path(self.session_id))
