"""Preview and Apply: the SIM-Net model, the background edits, and their status bar widgets.

The model loads on the edit worker when an image opens, so the first preview need not wait. A
preview at the resolution the painting is shown at follows each change of the masks (at once
after a stroke, a transform or a mask tool; shortly after the reach changes, once for a burst).
Apply makes the edit at full resolution with a progress bar and the elapsed time, reusing the
footprint fill the live controller prepared when the region was selected; Ctrl+. cancels. Remove
Selection (and Apply with the new shape erased to nothing) fills the region's place instead
(``engine.removal``). This is the one place that applies an edit: ``workspace.applying`` says when
one runs, and ``applied`` tells the others when it is done.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar

from app.canvas import CanvasView
from app.convert import array_to_qimage
from app.live_controller import LiveController
from app.settings import Settings
from app.workspace import Workspace
from engine.live_preview import PREVIEW_ALIGN_STEPS  # fewer alignment steps for the preview than for Apply
# Imported here, on the GUI thread at start-up, not on a worker at the first Apply: importing the
# engine's torch code holds the interpreter lock for hundreds of milliseconds and would freeze the UI.
from engine.manipulator import Manipulator
from engine.removal import remove_region
from engine.session import make_step
from engine.worker import Worker

PREVIEW_DELAY_MS = 350
DEVICE_TIP = "Where SIM-Net runs (Edit ▸ Settings)"


class EditController(QObject):
    #: An edit was applied: the document holds its result.
    applied = Signal()
    #: A preview was shown on the canvas.
    preview_shown = Signal()

    def __init__(self, workspace: Workspace, canvas: CanvasView, live: LiveController, settings: Settings,
                 checkpoint: str | Path | None = None) -> None:
        super().__init__(workspace)
        self.workspace, self.canvas, self.live, self.settings = workspace, canvas, live, settings
        #: A SIM-Net checkpoint to use instead of the shipped one (``simnet-editor --checkpoint``).
        self.checkpoint = checkpoint
        #: Where every edit gets the model (a test may put a double in its place).
        self.manipulator_source: Callable[[], Manipulator] = self.load_manipulator
        self.worker = Worker("simnet-edit")
        self.manipulator: Manipulator | None = None
        self._manipulator_key: tuple | None = None
        self._manipulator_lock = threading.Lock()
        self.model_error: str | None = None
        self.last_timings: dict[str, float] = {}
        self._apply_started = 0.0
        self._doing = "Applying the edit"
        self.preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self.request_preview)
        self._held_previews = 0  # how many times the preview was held (see hold_preview)
        self.progress = QProgressBar(maximumWidth=160, minimum=0, maximum=0)
        self.progress.hide()
        self.device_label = QLabel(f"Device: {settings.device}")
        self.device_label.setToolTip(DEVICE_TIP)
        self.timing_label = QLabel("")
        self.timing_label.setToolTip("How long the last Apply took")
        self.apply_clock = QTimer(self, interval=500)
        self.apply_clock.timeout.connect(self._show_apply_time)
        workspace.target_reshaped.connect(self.on_target_reshaped)
        workspace.masks_replaced.connect(lambda: self.preview_timer.start(PREVIEW_DELAY_MS))
        workspace.history_shown.connect(self.hold_preview)
        workspace.document_replaced.connect(self.worker.cancel_all)

    # -- the model ---------------------------------------------------------------------------------
    def load_manipulator(self) -> Manipulator:
        """The loaded model; one load at a time, whichever thread asks first (the others wait for it)."""
        key = (self.settings.device, str(self.checkpoint or ""))
        with self._manipulator_lock:
            if self.manipulator is None or self._manipulator_key != key:
                self.manipulator = None
                self.manipulator = Manipulator(self.checkpoint, device=self.settings.device)
                self._manipulator_key = key
            return self.manipulator

    def warm_up_model(self) -> None:
        """Load the SIM-Net model on the edit worker now, so the first preview or Apply need not wait."""
        workspace = self.workspace

        def failed(error: BaseException) -> None:
            # Kept in the status bar (the segmenter's "Ready" must not hide it): Apply cannot work.
            self.model_error = str(error)
            self.device_label.setText("⚠ SIM-Net model not loaded")
            self.device_label.setStyleSheet("color: #c0392b")
            self.device_label.setToolTip(self.model_error)
            workspace.fail("The SIM-Net model could not be loaded", error)

        def loaded(manipulator: Manipulator) -> None:
            self.model_error = None
            self.device_label.setStyleSheet("")
            self.device_label.setToolTip(DEVICE_TIP)
            self.show_device(manipulator)

        def load(token) -> Manipulator:
            manipulator = self.manipulator_source()
            manipulator.warm_up(cancel=token)
            return manipulator

        self.worker.submit(load, on_done=workspace.bridge.wrap(loaded), on_error=workspace.bridge.wrap(failed))

    def show_device(self, manipulator: Manipulator | None) -> None:
        device = str(manipulator.device) if manipulator is not None else self.settings.device
        if self.settings.device == "auto" and manipulator is not None:
            device += " (auto)"
        self.device_label.setText(f"Device: {device}")

    # -- preview -----------------------------------------------------------------------------------
    def edit_options(self) -> dict:
        """The Reach setting for ``Manipulator.edit`` (None when Auto: the engine's default) and the
        Resampling setting (Edit ▸ Settings)."""
        return {"reach": self.settings.reach, "resampling": self.settings.resampling}

    def schedule_preview(self) -> None:
        """The reach changed: the preview is stale, a new one follows shortly (once for a burst)."""
        if self.workspace.has_region:
            self.canvas.set_preview(None)
            self.preview_timer.start(PREVIEW_DELAY_MS)

    def hold_preview(self) -> None:
        """An undo, a redo or a move in the history is shown: the painting as it now is, without a preview of the
        shapes that came back with it (an undone edit would look as if it were still there); the preview returns
        when the shapes or the reach change."""
        self.preview_timer.stop()
        self._held_previews += 1  # a preview asked for before this one is not shown when it arrives
        self.canvas.set_preview(None)

    def on_target_reshaped(self, after_transform: bool) -> None:
        """A stroke, a transform or a mask tool ended: the refined preview follows at once. After a
        drag that showed live frames, the last frame stays until the preview replaces it."""
        if not (after_transform and self.live.drag_frames > 0):
            self.canvas.set_preview(None)
        self.preview_timer.start(0)

    def preview_grid(self) -> tuple[int, object | None]:
        """The preview's longer side (the painting as shown on screen) and the fill it reuses: on the
        live plate's grid, its fill; else None (the preview fills for itself)."""
        reuse = self.live.preview_fill()
        return reuse if reuse is not None else (self.live.screen_side(self.workspace.document.session.shape), None)

    def request_preview(self) -> None:
        workspace = self.workspace
        document = workspace.document
        if document is None or workspace.applying or not document.region.any():
            return
        target = document.target
        if not target.any() or not document.reshaped:
            return  # nothing to preview (a stale preview was taken down when the masks changed)
        image, source, options = document.lend_image(), document.region.copy(), self.edit_options()
        options["shape_motion"] = document.shape_motion
        side, fill = self.preview_grid()
        held = self._held_previews

        def run(token):
            return self.manipulator_source().edit(image, source, target, max_side=side, cancel=token,
                                                  align_steps=PREVIEW_ALIGN_STEPS, fill=fill, **options)

        def failed(error: BaseException) -> None:
            document.return_image(image)
            workspace.say(f"Preview failed: {error}")

        def done(result) -> None:
            document.return_image(image)
            if workspace.applying or not result.changed or held != self._held_previews:
                return
            self.canvas.set_preview(array_to_qimage(result.image), result.box)
            workspace.say("Preview (the painting as shown). Apply (Ctrl+Return) makes it at full resolution.")
            self.preview_shown.emit()

        self.worker.submit(run, on_done=workspace.bridge.wrap(done), on_error=workspace.bridge.wrap(failed),
                           on_cancelled=workspace.bridge.wrap(lambda: document.return_image(image)))

    def shutdown(self, timeout: float) -> None:
        """Stop the preview and apply timers first: a pending preview would otherwise fire into the
        stopped worker after the window has closed."""
        self.preview_timer.stop()
        self.apply_clock.stop()
        self.worker.shutdown(timeout)

    # -- apply -------------------------------------------------------------------------------------
    @property
    def applying(self) -> bool:
        return self.workspace.applying

    def apply(self) -> None:
        workspace = self.workspace
        document = workspace.document
        if document is None or not document.region.any() or workspace.applying:
            return
        target = document.target
        if not target.any():  # the new shape was erased to nothing: the region goes
            self.remove()
            return
        image, source, options = document.session.current, document.region.copy(), self.edit_options()
        options["shape_motion"] = document.shape_motion
        fill = self._prepared_fill()
        if fill is not None:
            options["fill"] = fill
        started = self._begin("Applying the edit")

        def run(token):
            result = self.manipulator_source().edit(image, source, target, cancel=token, **options)
            # The history step (compressing the changed area) is made here too, off the GUI thread.
            step = (make_step(image, result.image, source, target, "Reshape", result.timings, within=result.box)
                    if result.changed else None)
            return result, step

        def done(result, step) -> None:
            document.apply(step, result.image, result.warped_mask)
            self._applied(step, result.timings, started)
            self.show_device(self.manipulator)
            for message in result.messages:
                if self.canvas.isVisible():
                    QMessageBox.information(self.canvas.window(), "Edit", message)
                else:
                    workspace.say(message)
            workspace.say("Edit applied. Reshape it again, click elsewhere for a new edit, or undo (Ctrl+Z).")
            self.applied.emit()

        self._submit(run, done, "The new shape equals the region: nothing to do.")

    def remove(self) -> None:
        """Edit ▸ Remove Selection (Delete), or Apply with the new shape erased to nothing: the region and its rim
        removed, their place filled from the painting around it (``engine.removal``); one History step."""
        workspace = self.workspace
        document = workspace.document
        if document is None or not document.region.any() or workspace.applying:
            return
        image, region, reach, fill = document.session.current, document.region.copy(), self.settings.reach, \
            self._prepared_fill()
        started = self._begin("Removing the region")

        def run(token):
            removal = remove_region(image, region, reach=reach, fill=fill)
            step = (make_step(image, removal.image, region, region, "Remove", removal.timings, within=removal.box)
                    if removal.changed else None)
            return removal, step

        def done(removal, step) -> None:
            document.apply(step, removal.image, np.zeros_like(region))
            self._applied(step, removal.timings, started)
            workspace.say("Region removed, its place filled from the painting around it. Undo (Ctrl+Z) brings it back.")
            self.applied.emit()

        self._submit(run, done, "Nothing changed: no painting is left around the region to fill its place from.")

    def _prepared_fill(self) -> Callable | None:
        """The footprint fill the live controller prepared at selection time (None when stale: the worker's
        unfinished plates are then dropped, they would only compete with the full-resolution fill)."""
        fill = self.live.full_fill()
        if fill is None:
            self.live.worker.cancel_all()
        return fill

    def _begin(self, doing: str) -> float:
        """Show that an Apply runs (progress bar, status, elapsed-time clock); returns when it started."""
        self.preview_timer.stop()
        self.progress.show()
        self._doing = doing
        self.workspace.say(f"{doing} at full resolution… (Ctrl+. cancels)")
        self.workspace.applying = True
        started = self._apply_started = time.perf_counter()
        self.apply_clock.start()
        return started

    def _applied(self, step, timings: dict[str, float], started: float) -> None:
        """After an Apply's step joined the document: the timing label, the canvas, the others told."""
        workspace = self.workspace
        self.canvas.set_preview(None)
        self.last_timings = dict(timings, wall=time.perf_counter() - started)
        self.timing_label.setText(f"Last edit {timings.get('total', self.last_timings['wall']):.2f} s")
        self.timing_label.setToolTip("The last Apply, in seconds:\n" + "\n".join(
            f"{name}: {seconds:.3f}" for name, seconds in self.last_timings.items()))
        workspace.image_changed.emit(step.box)
        workspace.masks_replaced.emit()
        self.canvas.set_fills_visible(False)  # look at the result; the outlines show the new region

    def _submit(self, run: Callable, done: Callable, unchanged: str) -> None:
        """Run an Apply's ``run`` (giving the result and its history step) on the edit worker; then, on the GUI
        thread, ``done(result, step)``, or the status bar says ``unchanged`` when there is no step."""
        workspace = self.workspace

        def finished(outcome) -> None:
            result, step = outcome
            self._finish()
            if step is None:
                workspace.say(unchanged)
                return
            done(result, step)

        def failed(error: BaseException) -> None:
            self._finish()
            workspace.fail("The edit failed", error)

        def cancelled() -> None:
            self._finish()
            workspace.say("Edit cancelled; nothing changed.")

        self.worker.submit(run, on_done=workspace.bridge.wrap(finished), on_error=workspace.bridge.wrap(failed),
                           on_cancelled=workspace.bridge.wrap(cancelled))

    def _show_apply_time(self) -> None:
        if self.workspace.applying:
            self.workspace.say(f"{self._doing} at full resolution… "
                               f"{time.perf_counter() - self._apply_started:.0f} s (Ctrl+. cancels)")

    def _finish(self) -> None:
        self.apply_clock.stop()
        self.progress.hide()
        self.canvas.set_preview(None)
        self.workspace.applying = False

    def cancel(self) -> None:
        """Ctrl+.: cancel the running edit and drop a waiting one (each reports back as cancelled)."""
        self.worker.cancel_all()
