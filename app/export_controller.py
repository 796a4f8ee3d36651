"""File ▸ Export Image and Export Masks.

The image is encoded and written on its own worker (an 8K PNG takes seconds), with a busy bar and
the elapsed time in the status bar; the editor stays usable meanwhile. The worker gets a copy of
the pixels lent by the document (no copy: the document copies them before an undo changes them
in place while they are lent). It calls the same
``engine.imageio.save_image`` with the same arguments as a synchronous export, so the file is
byte-for-byte the same. Failures are shown in a dialog.
"""
from __future__ import annotations

import time
from pathlib import Path
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressBar, QWidget

from app.export_naming import EXPORT_FILTER, export_path, format_of_suffix, suggest_export
from app.settings import Settings
from app.workspace import Workspace
from engine.errors import SimNetError
from engine.imageio import save_image, save_mask
from engine.worker import Worker


class ExportController(QObject):
    #: The exported file's path, once it is completely written.
    finished = Signal(str)
    #: The one-line reason an export failed (also shown in a dialog).
    failed = Signal(str)

    def __init__(self, workspace: Workspace, settings: Settings, dialog_parent: QWidget) -> None:
        super().__init__(workspace)
        self.workspace, self.settings, self.dialog_parent = workspace, settings, dialog_parent
        self.worker = Worker("simnet-export")
        #: Where this session's image was last exported (the next export suggests it again).
        self.last_path: Path | None = None
        self.exporting: Path | None = None
        self._started = 0.0
        self.progress = QProgressBar(maximumWidth=120, minimum=0, maximum=0)  # busy: encoders report no fraction
        self.progress.setToolTip("Exporting the image")
        self.progress.hide()
        self.clock = QTimer(self, interval=250)
        self.clock.timeout.connect(self._show_progress)
        workspace.document_replaced.connect(self.forget_session)

    @property
    def busy(self) -> bool:
        return self.exporting is not None

    def forget_session(self) -> None:
        """A new session: its export starts from the artwork's name again."""
        self.last_path = None

    def _ask_path(self) -> Path | None:
        artwork = self.workspace.document.session.artwork
        suggestion = suggest_export(artwork.path, artwork.source_format, previous_export=self.last_path,
                                    last_format=self.settings.last_export_format, folder=self.settings.last_folder)
        chosen, chosen_filter = QFileDialog.getSaveFileName(self.dialog_parent, "Export image", str(suggestion.path),
                                                            EXPORT_FILTER,
                                                            suggestion.file_filter)
        return export_path(chosen, chosen_filter) if chosen else None

    def export_image(self, path: str | Path | None = None) -> bool:
        """Start writing the current image at full resolution to ``path`` (asked for when None).
        True when the export started; :attr:`finished` or :attr:`failed` follows."""
        workspace = self.workspace
        if workspace.document is None or self.busy:
            return False
        target = Path(path) if path else self._ask_path()
        if target is None:
            return False
        if workspace.is_artwork(target):
            if not self.dialog_parent.isVisible():
                workspace.fail("Export refused", f"{target} is the original artwork")
                return False
            answer = QMessageBox.warning(self.dialog_parent, "Overwrite the original?",
                                         f"{target.name} is the original artwork. Replace it with the edited image?",
                                         QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
            if answer != QMessageBox.Yes:
                return False
        workspace.wait_for_apply("Exporting")
        document = workspace.document
        if document is None or self.busy:
            return False
        pixels, artwork = document.lend_image(), document.session.artwork
        height, width = pixels.shape[:2]

        def run(token) -> None:
            save_image(target, pixels, icc_profile=artwork.icc_profile, exif=artwork.exif)

        def done(_) -> None:
            self._stop(document, pixels)
            self.last_path = target
            if format_of_suffix(target):
                self.settings.last_export_format = format_of_suffix(target)
            workspace.say(f"Exported {target} ({width}×{height}) in {time.perf_counter() - self._started:.1f} s")
            self.finished.emit(str(target))

        def failed(error: BaseException) -> None:
            self._stop(document, pixels)
            reason = str(error) if isinstance(error, SimNetError) else f"{target}: {error}"
            workspace.fail("Cannot export the image", reason)
            self.failed.emit(reason)

        def cancelled() -> None:  # only when the editor shuts down
            self._stop(document, pixels)

        self.exporting = target
        self._started = time.perf_counter()
        self.progress.show()
        self.clock.start()
        self._show_progress()
        workspace.actions_changed.emit()
        bridge = workspace.bridge
        self.worker.submit(run, on_done=bridge.wrap(done), on_error=bridge.wrap(failed),
                           on_cancelled=bridge.wrap(cancelled))
        return True

    def _show_progress(self) -> None:
        if self.exporting is not None:
            self.workspace.say(f"Exporting {self.exporting.name}… "
                                     f"{time.perf_counter() - self._started:.0f} s")

    def _stop(self, document, pixels) -> None:
        document.return_image(pixels)
        self.exporting = None
        self.clock.stop()
        self.progress.hide()
        self.workspace.actions_changed.emit()

    def export_masks(self) -> None:
        workspace = self.workspace
        if workspace.document is None:
            return
        if not workspace.has_region:
            workspace.fail("Nothing to export", "select a region first")
            return
        folder = QFileDialog.getExistingDirectory(self.dialog_parent, "Export masks to folder",
                                                  self.settings.last_folder)
        if not folder:
            return
        targets = [Path(folder) / "region_mask.png", Path(folder) / "target_mask.png"]
        if any(workspace.is_artwork(target) for target in targets):
            workspace.fail("Cannot export the masks",
                           f"the artwork itself is {workspace.document.session.artwork.path}; choose another folder")
            return
        try:
            save_mask(targets[0], workspace.region)
            save_mask(targets[1], workspace.target)
        except SimNetError as error:
            workspace.fail("Cannot export the masks", error)
            return
        workspace.say(f"Masks written to {folder}")

    def shutdown(self, timeout: float = 60.0) -> None:
        """Let a running export finish writing (the file is replaced atomically, never half-written)."""
        self.worker.wait_idle(timeout)
        self.worker.shutdown(1.0)
