"""Preview and Apply: the SIM-Net model, the background edits, and their status bar widgets.

The model loads on the edit worker when an image opens, so the first preview need not wait. A
reduced-resolution preview follows each change of the masks or the reach (newest wins); Apply
makes the edit at full resolution with a progress bar and the elapsed time, and Ctrl+. cancels.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar

from app.convert import array_to_qimage
# Imported here, on the GUI thread at start-up, not on a worker at the first Apply: importing the
# engine's torch code holds the interpreter lock for hundreds of milliseconds and would freeze the UI.
from engine.live_preview import PREVIEW_ALIGN_STEPS  # fewer alignment steps for the preview than for Apply
from engine.manipulator import Manipulator
from engine.session import make_step
from engine.worker import Worker

if TYPE_CHECKING:
    from app.main_window import MainWindow

PREVIEW_DELAY_MS = 350
DEVICE_TIP = "Where SIM-Net runs (Edit ▸ Settings)"


class EditController(QObject):
    def __init__(self, window: "MainWindow", checkpoint: str | Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        #: A SIM-Net checkpoint to use instead of the shipped one (``simnet-editor --checkpoint``).
        self.checkpoint = checkpoint
        self.worker = Worker("simnet-edit")
        self.manipulator: Manipulator | None = None
        self._manipulator_key: tuple | None = None
        self._manipulator_lock = threading.Lock()
        self.model_error: str | None = None
        self.applying = False
        self.last_timings: dict[str, float] = {}
        self._apply_started = 0.0
        self.preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self.request_preview)
        self.progress = QProgressBar(maximumWidth=160, minimum=0, maximum=0)
        self.progress.hide()
        self.device_label = QLabel(f"Device: {window.settings.device}")
        self.device_label.setToolTip(DEVICE_TIP)
        self.timing_label = QLabel("")
        self.timing_label.setToolTip("How long the last Apply took")
        self.apply_clock = QTimer(self, interval=500)
        self.apply_clock.timeout.connect(self._show_apply_time)

    # -- the model ---------------------------------------------------------------------------------
    def load_manipulator(self) -> Manipulator:
        """The loaded model; one load at a time, whichever thread asks first (the others wait for it)."""
        settings = self.window.settings
        key = (settings.device, str(self.checkpoint or ""))
        with self._manipulator_lock:
            if self.manipulator is None or self._manipulator_key != key:
                self.manipulator = None
                self.manipulator = Manipulator(self.checkpoint, device=settings.device)
                self._manipulator_key = key
            return self.manipulator

    def warm_up_model(self) -> None:
        """Load the SIM-Net model on the edit worker now, so the first preview or Apply need not wait."""
        window = self.window

        def failed(error: BaseException) -> None:
            # Kept in the status bar (the segmenter's "Ready" must not hide it): Apply cannot work.
            self.model_error = str(error)
            self.device_label.setText("⚠ SIM-Net model not loaded")
            self.device_label.setStyleSheet("color: #c0392b")
            self.device_label.setToolTip(self.model_error)
            window.show_error("The SIM-Net model could not be loaded", error)

        def loaded(manipulator: Manipulator) -> None:
            self.model_error = None
            self.device_label.setStyleSheet("")
            self.device_label.setToolTip(DEVICE_TIP)
            self.show_device(manipulator)

        def load(token) -> Manipulator:
            manipulator = window._get_manipulator()
            manipulator.warm_up(cancel=token)
            return manipulator

        self.worker.submit(load, on_done=window.bridge.wrap(loaded), on_error=window.bridge.wrap(failed))

    def show_device(self, manipulator: Manipulator | None) -> None:
        settings = self.window.settings
        device = str(manipulator.device) if manipulator is not None else settings.device
        if settings.device == "auto" and manipulator is not None:
            device += " (auto)"
        self.device_label.setText(f"Device: {device}")

    # -- preview -----------------------------------------------------------------------------------
    def edit_options(self) -> dict:
        """The Reach control's choice for ``Manipulator.edit`` (None when Auto: the engine's default)."""
        return {"reach": self.window.reach.value}

    def schedule_preview(self) -> None:
        """The reach changed: the preview is stale, a new one follows shortly (once for a burst)."""
        window = self.window
        if window.document is not None and window.region.any():
            window.canvas.set_preview(None)
            self.preview_timer.start(PREVIEW_DELAY_MS)

    def preview_soon(self) -> None:
        """A stroke, a transform or a mask tool ended: the refined preview follows at once."""
        self.preview_timer.start(0)

    def preview_grid(self) -> tuple[int, object | None]:
        """The preview's longer side (the painting as shown on screen) and the fill it reuses: on the
        live plate's grid, its fill; else None (the preview fills for itself)."""
        live = self.window.live
        reuse = live.preview_fill()
        return reuse if reuse is not None else (live.screen_side(self.window.session.shape), None)

    def request_preview(self) -> None:
        window = self.window
        if window.document is None or self.applying or not window.region.any():
            return
        target = window.target_mask()
        if not target.any() or np.array_equal(target, window.region):
            window.canvas.set_preview(None)
            return
        document = window.document
        image, source, options = document.lend_image(), window.region.copy(), self.edit_options()
        side, fill = self.preview_grid()

        def run(token):
            return window._get_manipulator().edit(image, source, target, max_side=side, cancel=token,
                                                  align_steps=PREVIEW_ALIGN_STEPS, fill=fill, **options)

        def failed(error: BaseException) -> None:
            document.return_image(image)
            window.show_message(f"Preview failed: {error}")

        def done(result) -> None:
            document.return_image(image)
            if self.applying or not result.changed:
                return
            window.canvas.set_preview(array_to_qimage(result.image), result.box)
            window.show_message("Preview (reduced resolution). Apply (Ctrl+Return) makes it at full resolution.")
            window.preview_shown.emit()

        self.worker.submit(run, on_done=window.bridge.wrap(done), on_error=window.bridge.wrap(failed),
                           on_cancelled=window.bridge.wrap(lambda: document.return_image(image)))

    def shutdown(self, timeout: float) -> None:
        """Stop the preview and apply timers first: a pending preview would otherwise fire into the
        stopped worker after the window has closed."""
        self.preview_timer.stop()
        self.apply_clock.stop()
        self.worker.shutdown(timeout)

    # -- apply -------------------------------------------------------------------------------------
    def apply(self) -> None:
        window = self.window
        if window.document is None or not window.region.any() or self.applying:
            return
        target = window.target_mask()
        if not target.any():
            window.show_error("Nothing to apply", "the new shape is empty: paint it with the Brush first")
            return
        self.preview_timer.stop()
        image, source, options = window.session.current, window.region.copy(), self.edit_options()
        fill = window.live.full_fill()  # the footprint filled when the region was selected, if not stale
        if fill is not None:
            options["fill"] = fill
        self.applying = True
        self.progress.show()
        window.show_message("Applying the edit at full resolution… (Ctrl+. cancels)")
        window.update_actions()
        started = self._apply_started = time.perf_counter()
        self.apply_clock.start()

        def run(token):
            result = window._get_manipulator().edit(image, source, target, cancel=token, **options)
            # The history step (compressing the changed area) is made here too, off the GUI thread.
            step = make_step(image, result.image, source, target, "Reshape", result.timings) if result.changed else None
            return result, step

        def done(outcome) -> None:
            result, step = outcome
            self._finish()
            if step is None:
                window.show_message("The new shape equals the region: nothing to do.")
                return
            window.document.apply(step, result.image, result.warped_mask)
            window.selection.forget_prompts()
            window.show_current()
            window.selection.show_masks()
            window.canvas.set_preview(None)
            window.canvas.set_fills_visible(False)  # look at the result; the outlines show the new region
            self.last_timings = dict(result.timings, wall=time.perf_counter() - started)
            self.timing_label.setText(f"Last edit {result.timings.get('total', self.last_timings['wall']):.2f} s")
            self.timing_label.setToolTip("The last Apply, in seconds:\n" + "\n".join(
                f"{name}: {seconds:.3f}" for name, seconds in self.last_timings.items()))
            self.show_device(self.manipulator)
            for message in result.messages:
                QMessageBox.information(window, "Edit", message) if window.isVisible() else window.show_message(message)
            window.show_message("Edit applied. Reshape it again, click elsewhere for a new edit, or undo (Ctrl+Z).")
            window.sessions.autosave_soon()
            window.selection.prepare_segmenter(announce=False)
            window.edit_applied.emit()

        def failed(error: BaseException) -> None:
            self._finish()
            window.show_error("The edit failed", error)

        def cancelled() -> None:
            self._finish()
            window.show_message("Edit cancelled; nothing changed.")

        self.worker.submit(run, on_done=window.bridge.wrap(done), on_error=window.bridge.wrap(failed),
                           on_cancelled=window.bridge.wrap(cancelled))

    def _show_apply_time(self) -> None:
        if self.applying:
            self.window.show_message(f"Applying the edit at full resolution… "
                                     f"{time.perf_counter() - self._apply_started:.0f} s (Ctrl+. cancels)")

    def _finish(self) -> None:
        self.applying = False
        self.apply_clock.stop()
        self.progress.hide()
        self.window.canvas.set_preview(None)
        self.window.update_actions()

    def cancel(self) -> None:
        """Ctrl+.: cancel the running edit and drop a waiting one (each reports back as cancelled)."""
        self.worker.cancel_all()
