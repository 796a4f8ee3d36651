"""The main window: a thin shell around the canvas, the menus and tool bars, the History panel and
the status bar. It shows an :class:`engine.document.Document` (held by the :class:`Workspace` the
controllers share) and hands the work to controllers, each given only what it uses (the workspace,
the canvas, the settings, the brush options) and reacting to the others through signals:

- :class:`SelectionController` (app/selection_controller.py): segmentation, strokes and transforms;
- :class:`CandidateController`, :class:`MaskToolsController`: a click's candidates, the Mask menu;
- :class:`EditController` (app/edit_controller.py): the model, the preview and Apply;
- :class:`SessionController` (app/session_controller.py): open, save, undo/redo, history, autosave;
- :class:`ExportController` (app/export_controller.py): Export Image and Export Masks;
- :class:`ReachControl` (app/reach_control.py): the Reach option and its band on the canvas;
- :class:`LiveController` (app/live_controller.py): the painting redrawn while a Transform handle moves;
- :class:`WarpController` (app/warp_controller.py): the Warp tool's pins and the bends they make.

The menus and tool bars are laid out in app/layout.py.

All image work runs on engine workers; their results come back to the GUI thread through
:class:`GuiThreadBridge`.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QSizePolicy

from app.brush_options import BrushOptions
from app.candidate_controller import CandidateController
from app.canvas import CanvasView, Tool
from app.convert import array_to_qimage
from app.edit_controller import EditController
from app.export_controller import ExportController
from app.history_panel import HistoryPanel
from app.live_controller import LiveController
from app.layout import build_actions
from app.mask_tools_controller import MaskToolsController
from app.reach_control import ReachControl
from app.restyle_controller import RestyleController
from app.selection_controller import SelectionController
from app.session_controller import SessionController
from app.settings import Settings, SettingsDialog
from app.shortcuts_dialog import ShortcutsDialog
from app.warp_controller import WarpController
from app.workspace import Workspace
from engine.about import version
from engine.document import Document
from engine.manipulator import Manipulator
from engine.session import EditSession

#: How long closing waits for a running edit to reach its next stage and stop.
EDIT_SHUTDOWN_SECONDS = 20.0

FIRST_RUN_HINT = ("Click a region to select it (more clicks add to it; right-click or Alt-click removes), or drag a "
                  "box. Then reshape the red mask with the Brush [B], Eraser [E], Transform [T] or Warp [W] tools and press "
                  "Apply (Ctrl+Return). To paint a region in the style of another, take the Restyle tool [R]: "
                  "with the region to restyle selected, click the exemplar region (or open another image there). "
                  "Hold \\ to see the original.")


class MainWindow(QMainWindow):
    edit_applied = Signal()
    preview_shown = Signal()

    def __init__(self, settings: Settings | None = None, checkpoint: str | Path | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        #: Errors are shown in a dialog as well as in the status bar (not in ``--screenshot`` mode: nobody answers).
        self.modal_errors = True
        self.setWindowTitle("SIM-Net Studio")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.workspace = workspace = Workspace(self)
        self.bridge = workspace.bridge
        self.brush = BrushOptions(self)

        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.history = HistoryPanel(self)
        dock = QDockWidget("History", self)
        dock.setObjectName("history")
        dock.setWidget(self.history)
        self.addDockWidget(Qt.RightDockWidgetArea, dock)
        self.history_dock = dock

        # The live controller first: its slot for a drag's end must run before the selection's.
        self.live = LiveController(workspace, self.canvas)
        self.selection = SelectionController(workspace, self.canvas, self.brush, self.settings)
        self.edits = EditController(workspace, self.canvas, self.live, self.settings, checkpoint)
        self.sessions = SessionController(workspace, self.settings, self)
        self.exporter = ExportController(workspace, self.settings, self)
        self.reach = ReachControl(workspace, self.canvas, self.settings)
        self.warp = WarpController(workspace, self.canvas, self.live)
        self.candidates = CandidateController(workspace, self.canvas, self._action, self.selection.look_closer)
        self.mask_tools = MaskToolsController(workspace, self.settings, self._action, self)
        self.restyle = RestyleController(workspace, self.canvas, self.settings, self, self.selection.segmenter)
        self.addDockWidget(Qt.RightDockWidgetArea, self.restyle.dock)
        self.candidates.route_to(self.restyle.picker)  # Tab steps the exemplar's click while it is the last click
        self.reach.changed.connect(self.restyle.region_changed)
        build_actions(self)
        self._build_status_bar()
        self._connect()
        self.set_tool(Tool.SELECT)
        self._brush_from_sliders()
        self.update_actions()
        self.canvas.setFocus()  # the tools' one-key shortcuts work from the start, not typed into a toolbar field

    def _connect(self) -> None:
        """The window's own reactions to the controllers' signals."""
        workspace = self.workspace
        workspace.message.connect(self.show_message)
        workspace.error.connect(self._report_error)
        workspace.actions_changed.connect(self.update_actions)
        workspace.document_replaced.connect(self._document_opened)
        workspace.image_changed.connect(self._image_changed)
        workspace.masks_replaced.connect(lambda: self.canvas.set_preview(None))
        workspace.target_reshaped.connect(lambda after_transform: self.update_actions())
        self.reach.changed.connect(self.edits.schedule_preview)
        self.edits.applied.connect(self.edit_applied)
        self.edits.preview_shown.connect(self.preview_shown)
        self.brush.changed.connect(self.canvas.set_brush)
        self.canvas.zoom_changed.connect(lambda zoom: self.zoom_label.setText(f"{zoom * 100:.0f} %"))
        self.canvas.tool_changed.connect(lambda tool: self.reach.update_visibility())  # the Restyle tool's picking too
        self.canvas.tool_changed.connect(lambda tool: self.update_actions())
        self.canvas.tool_changed.connect(self._show_tool)  # however the tool changed (the Restyle tool's picking too)
        self.history.step_chosen.connect(self.sessions.go_to_step)

    def _document_opened(self) -> None:
        self.canvas.set_image(self.current_qimage(), fit=True)
        self.selection.forget_prompts()
        self.workspace.masks_replaced.emit()  # a reopened session's selection, or none; a reshape previews
        self.history.show_session(self.session)
        self.update_compare()
        self.selection.prepare_segmenter()
        self.warm_up_model()
        self.update_actions()

    def _image_changed(self, box: tuple[int, int, int, int] | None) -> None:
        """An edit was applied, undone or redone: its clicks are void, the segmenter prepares again."""
        self.selection.forget_prompts()
        self.show_current(box)
        self.selection.prepare_segmenter(announce=False)

    # -- construction ------------------------------------------------------------------------------
    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
        tooltip = tip or text.replace("&", "").rstrip("…")
        if not action.shortcut().isEmpty():
            tooltip += f" ({action.shortcut().toString(QKeySequence.NativeText)})"
        action.setToolTip(tooltip)
        action.setStatusTip(tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.message_label = QLabel("Open an artwork to begin (File ▸ Open, or drop a file here).")
        # A long message must never widen the window: it is cut off instead (the tooltip has all of it).
        self.message_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.zoom_label = QLabel("")
        status.addWidget(self.message_label, 1)
        for widget in (self.edits.progress, self.exporter.progress, self.edits.timing_label, self.candidates.label,
                       self.selection.label, self.edits.device_label, self.zoom_label):
            status.addPermanentWidget(widget)

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setToolTip(text)  # the whole text, should a narrow window cut it off

    def show_error(self, title: str, error: BaseException | str) -> None:
        """Remember the error, show it in the status bar and, when the window is shown, in a dialog."""
        self.workspace.fail(title, error)

    def _report_error(self, title: str, text: str) -> None:
        self.show_message(f"{title}: {text}")
        if self.isVisible() and self.modal_errors:
            QMessageBox.warning(self, title, text)

    @property
    def last_error(self) -> str | None:
        return self.workspace.last_error

    def update_actions(self) -> None:
        has_image = self.document is not None
        has_region = bool(has_image and self.region.any())
        applying = self.workspace.applying
        for action in (self.save_action, self.save_as_action, self.export_masks_action, self.compare_action,
                       self.clear_action, *self.tool_actions.values()):
            action.setEnabled(has_image)
        if self.canvas.tool is Tool.EXEMPLAR:  # Esc stops the Restyle tool's picking instead
            self.clear_action.setEnabled(False)
        self.export_action.setEnabled(has_image and not self.exporter.busy)
        self.reset_action.setEnabled(has_region)
        self.apply_action.setEnabled(has_region and not applying)
        self.remove_action.setEnabled(has_region and not applying)
        self.cancel_action.setEnabled(applying)
        self.undo_action.setEnabled(bool(has_image and self.document.can_undo) and not applying)
        self.redo_action.setEnabled(bool(has_image and self.document.can_redo) and not applying)
        for controller in (self.candidates, self.mask_tools):
            controller.update_actions()
        self.history.show_mask_steps(*(self.document.mask_step_labels if has_image else ([], [])))
        title = "SIM-Net Studio"
        if self.session is not None:
            path = self.sessions.path or self.session.artwork.path
            title = f"{path.name if path else 'untitled'}{' *' if self.document.has_unsaved_work else ''} — SIM-Net Studio"
        self.setWindowTitle(title)

    _update_actions = update_actions  # the name tests/test_reliability.py's editor script calls

    # -- the document ------------------------------------------------------------------------------
    @property
    def document(self) -> Document | None:
        return self.workspace.document

    @document.setter
    def document(self, document: Document | None) -> None:
        self.workspace.document = document

    @property
    def session(self) -> EditSession | None:
        return self.document.session if self.document is not None else None

    @session.setter
    def session(self, session: EditSession | None) -> None:
        self.document = Document(session) if session is not None else None

    @property
    def region(self) -> np.ndarray:
        """The selected region (a boolean mask of the image's size)."""
        return self.workspace.region

    def target_mask(self) -> np.ndarray:
        """The new shape (a boolean mask of the image's size)."""
        return self.workspace.target

    def _set_region(self, mask: np.ndarray) -> None:
        """Select ``mask`` without an undo step (the new shape stays as it is)."""
        self.document.show_masks(mask, self.document.target)
        self.selection.show_region()

    def _set_target(self, mask: np.ndarray) -> None:
        """Make ``mask`` the new shape without an undo step."""
        self.document.show_masks(self.document.region, mask)
        self.selection.show_target()

    def current_qimage(self) -> QImage:
        return array_to_qimage(self.session.current)

    def show_current(self, box: tuple[int, int, int, int] | None = None) -> None:
        """The image changed (an edit, undo, redo): show it, its history and the comparison. With
        ``box`` (x0, y0, x1, y1) only that part of the canvas is redrawn (quick on 8K paintings)."""
        if box is None or not self.canvas.has_image(self.session.shape):
            self.canvas.set_image(self.current_qimage())
        else:
            x0, y0, x1, y1 = box
            self.canvas.update_image(array_to_qimage(self.session.current[y0:y1, x0:x1]), x0, y0)
        self.history.show_session(self.session)
        self.update_compare()
        self.update_actions()

    # What the command line, the autosave recovery and tests/test_reliability.py call on the window.
    @property
    def session_id(self) -> str:
        return self.sessions.session_id

    def open_image(self, path: str | Path) -> bool:
        return self.sessions.open_image(path)

    def open_session(self, path: str | Path, *, recovered: bool = False) -> bool:
        return self.sessions.open_session(path, recovered=recovered)

    def offer_recovery(self) -> None:
        self.sessions.offer_recovery()

    def apply_edit(self) -> None:
        self.edits.apply()

    def warm_up_model(self) -> None:
        """Load the model in the background as an image opens (a test without a model stubs this out)."""
        self.edits.warm_up_model()

    @property
    def _get_manipulator(self) -> Callable[[], Manipulator]:
        """Where every edit gets the model (assign a function returning a double to test without it)."""
        return self.edits.manipulator_source

    @_get_manipulator.setter
    def _get_manipulator(self, source: Callable[[], Manipulator]) -> None:
        self.edits.manipulator_source = source

    # -- tools -------------------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.canvas.set_tool(tool)  # the Reach band follows through canvas.tool_changed
        self._show_tool(self.canvas.tool)  # also when the tool stays (a click on its checked button unchecks it)

    def _show_tool(self, tool: Tool) -> None:
        """The tool bar checks the tool the canvas uses, and none while the Restyle tool picks its exemplar."""
        for kind, action in self.tool_actions.items():
            action.setChecked(kind is tool)

    def change_brush(self, factor: float) -> None:
        value = self.size_slider.value()
        new = round(value * factor)
        if new == value:  # small brushes still change by one pixel
            new = value + (1 if factor > 1 else -1)
        self.size_slider.setValue(max(1, min(500, new)))

    def _brush_from_sliders(self) -> None:
        self.brush.set(float(self.size_slider.value()), self.hardness_slider.value() / 100.0)

    # -- drag and drop, keys, compare --------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if urls:
            self.sessions.open_in_background(urls[0])

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key_Backslash and self.session is not None:
            if not event.isAutoRepeat():
                self.show_before(True)
            return
        if event.key() == Qt.Key_Space and not self.canvas.hasFocus():
            self.canvas.keyPressEvent(event)  # space-drag pans wherever the keyboard focus is
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key_Backslash and self.session is not None:
            if not event.isAutoRepeat():
                self.show_before(False)
            return
        if event.key() == Qt.Key_Space and not self.canvas.hasFocus():
            self.canvas.keyReleaseEvent(event)
            return
        super().keyReleaseEvent(event)

    def show_before(self, on: bool) -> None:
        """While \\ is held: the original artwork, without overlays; released: the current state."""
        if self.session is None:
            return
        self.canvas.show_original(array_to_qimage(self.session.original) if on else None)
        self.show_message("Showing the original (release \\ to see the result)." if on else "")

    def update_compare(self) -> None:
        dialog = getattr(self, "compare_dialog", None)
        if dialog is not None and dialog.isVisible() and self.session is not None:
            dialog.set_images(array_to_qimage(self.session.original), array_to_qimage(self.session.current))

    def toggle_compare(self, on: bool) -> None:
        if self.session is None:
            return
        from app.compare import CompareDialog

        if on:
            if getattr(self, "compare_dialog", None) is not None:
                self.compare_dialog.close()
            self.compare_dialog = CompareDialog(array_to_qimage(self.session.original),
                                                array_to_qimage(self.session.current), self)
            self.compare_dialog.finished.connect(lambda _: self.compare_action.setChecked(False))
            self.compare_dialog.show()
        elif getattr(self, "compare_dialog", None) is not None:
            self.compare_dialog.close()

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.edits.show_device(None)
            self.selection.prepare_segmenter()
            if self.session is not None:
                self.edits.warm_up_model()
                self.edits.schedule_preview()  # the resampling may have changed

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.menuBar(), self).exec()

    def about(self) -> None:
        QMessageBox.about(self, "About SIM-Net Studio",
                          "SIM-Net Studio reshapes regions of artworks with SIM-Net (Learning to Manipulate Artistic "
                          "Images, AAAI 2024): the region takes its new shape in the painting's own texture; "
                          "Restyle paints a region with the colours and brushwork of an exemplar region.\n\n"
                          + FIRST_RUN_HINT + f"\n\nVersion {version()}")

    def show_first_run_hint(self) -> None:
        if self.settings.first_run:
            self.show_message(FIRST_RUN_HINT)
            QTimer.singleShot(0, lambda: QMessageBox.information(self, "Welcome to SIM-Net Studio", FIRST_RUN_HINT))
            self.settings.mark_first_run_done()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.sessions.confirm_discard():
            event.ignore()
            return
        self.shutdown_workers(autosave_seconds=5.0)
        self.sessions.discard_autosave()  # closed cleanly: nothing to recover next time
        event.accept()

    def shutdown_workers(self, autosave_seconds: float = 2.0) -> None:
        # A running edit stops at its next stage; waiting for it keeps torch's threads from being
        # torn down under it at exit (which aborts the process).
        self.edits.shutdown(EDIT_SHUTDOWN_SECONDS)
        self.selection.worker.shutdown(2.0)
        self.restyle.worker.shutdown(EDIT_SHUTDOWN_SECONDS)
        self.sessions.shutdown(autosave_seconds)
        self.reach.shutdown()
        self.live.shutdown()
        self.exporter.shutdown()
