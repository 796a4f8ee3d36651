"""The main window: menus, tools, the canvas, the history panel, and the flow of an edit.

All image work runs on engine workers (one for SIM-Net edits, one for segmentation, one for
autosaves); their results come back to the GUI thread through :class:`GuiThreadBridge`.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPainterPath
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox, QProgressBar,
                               QSizePolicy, QSlider, QToolBar)

from app.bridge import GuiThreadBridge
from app.canvas import REGION_ALPHA, REGION_COLOUR, TARGET_ALPHA, TARGET_COLOUR, CanvasView, Tool
from app.convert import array_to_qimage, mask_to_overlay, overlay_to_mask, polygons_to_path
from app.export_controller import ExportController
from app.history_panel import HistoryPanel
from app.reach_control import ReachControl
from app.settings import Settings, SettingsDialog
from engine import autosave
from engine.errors import SimNetError
from engine.imageio import load_image
# Imported here, on the GUI thread at start-up, not on a worker at the first Apply: importing the
# engine's torch code holds the interpreter lock for hundreds of milliseconds and would freeze the UI.
from engine.manipulator import Manipulator
from engine.masks import (bounding_box, mask_centroid, outline_polygons, region_affine, soften_stroke, subtract,
                          transform_mask, union)
from engine.document import Change, Document, StepKind
from engine.session import EditSession, load_session, make_step, save_session, snapshot
from engine.worker import Worker

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp);;All files (*)"
SESSION_FILTER = "SIM-Net sessions (*.simnet)"
PREVIEW_SIDE = 640
#: Fewer test-time alignment steps for the quick preview than for Apply (engine default).
PREVIEW_ALIGN_STEPS = 12
PREVIEW_DELAY_MS = 350
AUTOSAVE_DELAY_MS = 3000
FIRST_RUN_HINT = ("Click a region to select it (more clicks add to it; right-click or Alt-click removes), or drag a "
                  "box. Then reshape the red mask with the Brush [B], Eraser [E] or Transform [T] tools and press "
                  "Apply (Ctrl+Return). Hold \\ to see the original.")


def _outline_path(mask: np.ndarray) -> QPainterPath:
    return polygons_to_path(outline_polygons(mask))


def _colour(colour, alpha: int) -> tuple[int, int, int, int]:
    return colour.red(), colour.green(), colour.blue(), alpha


class MainWindow(QMainWindow):
    edit_applied = Signal()
    preview_shown = Signal()
    selection_changed = Signal()

    def __init__(self, settings: Settings | None = None, checkpoint: str | Path | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        #: A SIM-Net checkpoint to use instead of the shipped one (``simnet-editor --checkpoint``).
        self.checkpoint = checkpoint
        self.model_error: str | None = None
        self.setWindowTitle("SIM-Net Studio")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.bridge = GuiThreadBridge(self)
        self.edit_worker = Worker("simnet-edit")
        self.segment_worker = Worker("simnet-segment")
        self.autosave_worker = Worker("simnet-autosave")
        self._manipulator = None
        self._manipulator_key: tuple | None = None
        self._manipulator_lock = threading.Lock()
        self._segmenter = None
        self._segmenter_key: str | None = None
        #: The artwork being edited, its selection and its undo stack; None before an image is opened.
        self.document: Document | None = None
        self.session_path: Path | None = None
        self.session_id = autosave.new_session_id()
        #: Autosaves recovered into this window, deleted once its own autosave is written.
        self.recovered_autosaves: list[Path] = []
        self.segmenter_name = ""
        self._pending_prompts: list[tuple] = []  # clicks and boxes the segmenter has not answered yet
        self._selection_generation = 0  # bumped whenever the image under the selection changes
        self.applying = False
        self.last_timings: dict[str, float] = {}
        self.last_error: str | None = None

        self.canvas = CanvasView(self)
        self.setCentralWidget(self.canvas)
        self.history = HistoryPanel(self)
        dock = QDockWidget("History", self)
        dock.setObjectName("history")
        dock.setWidget(self.history)
        self.addDockWidget(Qt.RightDockWidgetArea, dock)
        self.history_dock = dock

        self.preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self.request_preview)
        self.autosave_timer = QTimer(self, singleShot=True, interval=AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)

        self.exporter = ExportController(self)
        self.reach = ReachControl(self)
        self.reach.changed.connect(self._reach_changed)
        self._build_actions()
        self._build_status_bar()
        self.canvas.point_clicked.connect(self.on_point)
        self.canvas.box_dragged.connect(self.on_box)
        self.canvas.stroke_finished.connect(self.on_stroke_finished)
        self.canvas.transform_finished.connect(self.on_transform)
        self.canvas.zoom_changed.connect(lambda zoom: self.zoom_label.setText(f"{zoom * 100:.0f} %"))
        self.history.step_chosen.connect(self.go_to_step)
        self.set_tool(Tool.SELECT)
        self._brush_from_sliders()
        self.update_actions()

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

    def _build_actions(self) -> None:
        a = self._action
        self.open_action = a("&Open Image…", self.choose_image, QKeySequence.Open, "Open an artwork")
        self.open_session_action = a("Open &Session…", self.choose_session, QKeySequence("Ctrl+Shift+O"), "Reopen a saved session")
        self.save_action = a("&Save Session", self.save, QKeySequence.Save, "Save the session (original, every step, masks)")
        self.save_as_action = a("Save Session &As…", self.save_as, QKeySequence.SaveAs, "Save the session to a new file")
        self.export_action = a("&Export Image…", lambda: self.exporter.export_image(), QKeySequence("Ctrl+E"),
                               "Export the result at full resolution")
        self.export_masks_action = a("Export &Masks…", self.exporter.export_masks, None,
                                     "Export the region and target masks as PNG")
        self.quit_action = a("&Quit", self.close, QKeySequence("Ctrl+Q"))
        self.undo_action = a("&Undo", self.undo, QKeySequence.Undo, "Undo the last stroke or edit")
        self.redo_action = a("&Redo", self.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")], "Redo")
        self.clear_action = a("&Clear Selection", self.clear_selection, QKeySequence("Esc"), "Forget the selected region")
        self.reset_action = a("Rese&t Shape", self.reset_shape, QKeySequence("Ctrl+R"), "Reset the target mask to the region")
        self.apply_action = a("&Apply", self.apply_edit, [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
                              "Reshape the region at full resolution")
        self.cancel_action = a("Ca&ncel", self.cancel_edit, QKeySequence("Ctrl+."), "Cancel the running edit")
        self.settings_action = a("&Settings…", self.edit_settings, QKeySequence("Ctrl+,"), "SAM checkpoint and device")
        self.fit_action = a("&Fit to Window", self.canvas.fit, QKeySequence("Ctrl+0"))
        self.actual_action = a("&Actual Size (100 %)", self.canvas.actual_size, QKeySequence("Ctrl+1"))
        self.zoom_in_action = a("Zoom &In", lambda: self.canvas.zoom_by(1.25), [QKeySequence(QKeySequence.ZoomIn), QKeySequence("Ctrl+=")])
        self.zoom_out_action = a("Zoom &Out", lambda: self.canvas.zoom_by(0.8), QKeySequence.ZoomOut)
        self.compare_action = a("Side-by-side &Compare", self.toggle_compare, QKeySequence("Ctrl+K"),
                                "Show the original beside the result", checkable=True)
        self.tool_actions = {
            Tool.SELECT: a("Se&lect", lambda: self.set_tool(Tool.SELECT), QKeySequence("S"),
                           "Click a region to add it to the selection (right/Alt-click removes), or drag a box", True),
            Tool.BRUSH: a("&Brush", lambda: self.set_tool(Tool.BRUSH), QKeySequence("B"),
                          "Paint the new shape ([ and ] change the size)", True),
            Tool.ERASER: a("&Eraser", lambda: self.set_tool(Tool.ERASER), QKeySequence("E"), "Erase from the new shape", True),
            Tool.TRANSFORM: a("&Transform", lambda: self.set_tool(Tool.TRANSFORM), QKeySequence("T"),
                              "Move (drag inside), scale (corners) or rotate (top knob) the new shape", True),
        }
        self.smaller_brush = a("Smaller Brush", lambda: self.change_brush(1 / 1.25), QKeySequence("["))
        self.larger_brush = a("Larger Brush", lambda: self.change_brush(1.25), QKeySequence("]"))
        self.about_action = a("&About", self.about)

        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        for action in (self.open_action, self.open_session_action, None, self.save_action, self.save_as_action, None,
                       self.export_action, self.export_masks_action, None, self.quit_action):
            file_menu.addSeparator() if action is None else file_menu.addAction(action)
        edit_menu = menu.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action, None, self.apply_action, self.cancel_action, None,
                       self.clear_action, self.reset_action, None, self.settings_action):
            edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
        view_menu = menu.addMenu("&View")
        for action in (self.fit_action, self.actual_action, self.zoom_in_action, self.zoom_out_action, None,
                       self.compare_action, self.history_dock.toggleViewAction()):
            view_menu.addSeparator() if action is None else view_menu.addAction(action)
        tools_menu = menu.addMenu("&Tools")
        for action in (*self.tool_actions.values(), None, self.smaller_brush, self.larger_brush):
            tools_menu.addSeparator() if action is None else tools_menu.addAction(action)
        menu.addMenu("&Help").addAction(self.about_action)

        bar = QToolBar("Tools", self)
        bar.setObjectName("tools")
        self.addToolBar(bar)
        for action in (self.open_action, self.save_action, self.export_action):
            bar.addAction(action)
        bar.addSeparator()
        for action in self.tool_actions.values():
            bar.addAction(action)
        bar.addSeparator()
        for action in (self.undo_action, self.redo_action, self.reset_action, self.apply_action, self.cancel_action):
            bar.addAction(action)

        # The tools' options on a row of their own, so the commands above never overflow.
        self.addToolBarBreak()
        options = QToolBar("Tool Options", self)
        options.setObjectName("tool_options")
        self.addToolBar(options)
        options.addWidget(QLabel(" Size "))
        self.size_slider = QSlider(Qt.Horizontal, minimum=1, maximum=500, value=40)
        self.size_slider.setFixedWidth(110)
        self.size_slider.setToolTip("Brush size in image pixels ([ and ])")
        options.addWidget(self.size_slider)
        options.addWidget(QLabel(" Hardness "))
        self.hardness_slider = QSlider(Qt.Horizontal, minimum=5, maximum=100, value=100)
        self.hardness_slider.setFixedWidth(80)
        self.hardness_slider.setToolTip("Brush hardness: 100 % paints exactly the brush's footprint; lower values "
                                        "smooth the outline of each stroke")
        options.addWidget(self.hardness_slider)
        for slider in (self.size_slider, self.hardness_slider):
            slider.valueChanged.connect(self._brush_from_sliders)
        options.addSeparator()
        self.reach.add_to(options)
        self.options_bar = options

    def _build_status_bar(self) -> None:
        status = self.statusBar()
        self.message_label = QLabel("Open an artwork to begin (File ▸ Open, or drop a file here).")
        # A long message must never widen the window: it is cut off instead (the tooltip has all of it).
        self.message_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.progress = QProgressBar(maximumWidth=160, minimum=0, maximum=0)
        self.progress.hide()
        self.device_label = QLabel(f"Device: {self.settings.device}")
        self.device_label.setToolTip("Where SIM-Net runs (Edit ▸ Settings)")
        self.timing_label = QLabel("")
        self.timing_label.setToolTip("How long the last Apply took")
        self.apply_clock = QTimer(self, interval=500)
        self.apply_clock.timeout.connect(self._show_apply_time)
        self._apply_started = 0.0
        self.zoom_label = QLabel("")
        status.addWidget(self.message_label, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.exporter.progress)
        status.addPermanentWidget(self.timing_label)
        self.segment_label = QLabel("")
        status.addPermanentWidget(self.segment_label)
        status.addPermanentWidget(self.device_label)
        status.addPermanentWidget(self.zoom_label)

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setToolTip(text)  # the whole text, should a narrow window cut it off

    def update_actions(self) -> None:
        has_image = self.session is not None
        has_region = bool(has_image and self.region.any())
        for action in (self.save_action, self.save_as_action, self.export_action, self.export_masks_action,
                       self.compare_action, self.clear_action, *self.tool_actions.values()):
            action.setEnabled(has_image)
        self.export_action.setEnabled(has_image and not self.exporter.busy)
        self.reset_action.setEnabled(has_region)
        self.apply_action.setEnabled(has_region and not self.applying)
        self.cancel_action.setEnabled(self.applying)
        self.undo_action.setEnabled(bool(has_image and self.document.can_undo) and not self.applying)
        self.redo_action.setEnabled(bool(has_image and self.document.can_redo) and not self.applying)
        title = "SIM-Net Studio"
        if self.session is not None:
            name = self.session_path.name if self.session_path else (self.session.artwork.path.name if self.session.artwork.path else "untitled")
            title = f"{name}{' *' if self.session.dirty else ''} — SIM-Net Studio"
        self.setWindowTitle(title)

    @property
    def session(self) -> EditSession | None:
        return self.document.session if self.document is not None else None

    @session.setter
    def session(self, session: EditSession | None) -> None:
        self.document = Document(session) if session is not None else None

    @property
    def region(self) -> np.ndarray:
        """The selected region (a boolean mask of the image's size)."""
        return self.document.region if self.document is not None else np.zeros((0, 0), bool)

    _update_actions = update_actions  # the name tests/test_reliability.py's editor script calls

    # -- files -------------------------------------------------------------------------------------
    def show_error(self, title: str, error: BaseException | str) -> None:
        """Remember the error, show it in the status bar and, when the window is shown, in a dialog."""
        text = str(error)
        self.last_error = text
        self.show_message(f"{title}: {text}")
        if self.isVisible():
            QMessageBox.warning(self, title, text)

    def confirm_discard(self) -> bool:
        """Ask before losing unsaved work; True when it is fine to go on."""
        if self.session is None or not self.session.dirty or not self.isVisible():
            return True
        answer = QMessageBox.question(self, "Unsaved changes", "Save the changes to this session first?",
                                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    def choose_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open artwork", self.settings.last_folder, IMAGE_FILTER)
        if path:
            self.open_image(path)

    def open_image(self, path: str | Path) -> bool:
        if not self.confirm_discard():
            return False
        try:
            artwork = load_image(path)
        except SimNetError as error:
            self.show_error("Cannot open the image", error)
            return False
        self.settings.last_folder = str(Path(path).parent)
        self._start_session(EditSession(artwork), None)
        return True

    def choose_session(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open session", self.settings.last_folder, SESSION_FILTER)
        if path:
            self.open_session(path)

    def open_session(self, path: str | Path, *, recovered: bool = False) -> bool:
        if not self.confirm_discard():
            return False
        try:
            session = load_session(path)
        except SimNetError as error:
            self.show_error("Cannot open the session", error)
            return False
        self._start_session(session, None if recovered else Path(path))
        if recovered:
            session.dirty = True
            self.update_actions()
        return True

    def _start_session(self, session: EditSession, path: Path | None) -> None:
        autosave.discard(autosave.autosave_path(self.session_id))
        self.edit_worker.cancel_all()
        self.document, self.session_path = Document(session), path
        self.exporter.forget_session()
        self.session_id = autosave.new_session_id()
        self.canvas.set_image(array_to_qimage(session.current), fit=True)
        self._drop_selection()
        self.history.show_session(session)
        self._update_compare()
        self.prepare_segmenter()
        self.warm_up_model()
        self.update_actions()
        self.show_message(f"{session.shape[1]}×{session.shape[0]} — click a region to select it.")

    def save(self) -> bool:
        if self.session is None:
            return False
        if self.session_path is None:
            return self.save_as()
        return self._save_to(self.session_path)

    def save_as(self) -> bool:
        if self.session is None:
            return False
        suggested = str(Path(self.settings.last_folder or ".") / "untitled.simnet")
        if self.session.artwork.path:
            suggested = str(self.session.artwork.path.with_suffix(".simnet"))
        path, _ = QFileDialog.getSaveFileName(self, "Save session", suggested, SESSION_FILTER)
        if not path:
            return False
        if not path.endswith(".simnet"):
            path += ".simnet"
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            save_session(path, self.session)
        except SimNetError as error:
            self.show_error("Cannot save the session", error)
            return False
        self.session_path = path
        self.show_message(f"Saved {path}")
        self.update_actions()
        return True

    # -- drag and drop -----------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        urls = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if urls:
            path = urls[0]
            self.open_session(path) if path.endswith(".simnet") else self.open_image(path)

    # -- masks -------------------------------------------------------------------------------------
    def target_mask(self) -> np.ndarray:
        """The new shape (a boolean mask of the image's size)."""
        return self.document.target if self.document is not None else np.zeros((0, 0), bool)

    def _show_region(self) -> None:
        mask = self.document.region
        self.canvas.set_region_overlay(mask_to_overlay(mask, _colour(REGION_COLOUR, REGION_ALPHA)), _outline_path(mask))
        self.reach.refresh()
        self.selection_changed.emit()

    def _show_target(self) -> None:
        mask = self.document.target
        centre = mask_centroid(mask)
        box = bounding_box(mask)
        rect = QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]) if box else None
        self.canvas.set_target_overlay(mask_to_overlay(mask, _colour(TARGET_COLOUR, TARGET_ALPHA)), _outline_path(mask),
                                       QPointF(*centre) if centre else None, rect)
        self.reach.refresh()

    def _show_masks(self) -> None:
        self._show_region()
        self._show_target()

    def _set_region(self, mask: np.ndarray) -> None:
        """Select ``mask`` without an undo step (the new shape stays as it is)."""
        self.document.show_masks(mask, self.document.target)
        self._show_region()

    def _set_target(self, mask: np.ndarray) -> None:
        """Make ``mask`` the new shape without an undo step."""
        self.document.show_masks(self.document.region, mask)
        self._show_target()

    def set_tool(self, tool: Tool) -> None:
        self.canvas.set_tool(tool)
        for kind, action in self.tool_actions.items():
            action.setChecked(kind is tool)
        self.reach.update_visibility()

    def _reach_changed(self) -> None:
        """Another reach: the preview is stale; a new one follows shortly."""
        if self.session is not None and self.region.any():
            self.canvas.set_preview(None)
            self.preview_timer.start()

    def edit_options(self) -> dict:
        """The Reach control's choice for ``Manipulator.edit``; Auto leaves out ``reach`` (the engine's
        default, the same as ``reach=None``)."""
        return {} if self.reach.value is None else {"reach": self.reach.value}

    def change_brush(self, factor: float) -> None:
        value = self.size_slider.value()
        new = round(value * factor)
        if new == value:  # small brushes still change by one pixel
            new = value + (1 if factor > 1 else -1)
        self.size_slider.setValue(max(1, min(500, new)))

    def _brush_from_sliders(self) -> None:
        self.canvas.set_brush(float(self.size_slider.value()), self.hardness_slider.value() / 100.0)

    def _drop_selection(self) -> None:
        """Forget the selection without an undo step (a new image, or a move through the history)."""
        self._forget_prompts()
        self.document.drop_selection()
        self._show_masks()
        self.canvas.set_preview(None)

    def _forget_prompts(self) -> None:
        """Clicks still being answered were made on another image: drop them."""
        self._pending_prompts = []
        self._selection_generation += 1
        self.segment_worker.cancel_all()

    def clear_selection(self) -> None:
        if self.document is None:
            return
        self.document.clear_selection()
        self._forget_prompts()
        self._show_masks()
        self.canvas.set_preview(None)
        self.update_actions()
        self.show_message("Selection cleared (Ctrl+Z brings it back).")

    def reset_shape(self) -> None:
        if self.document is None or not self.region.any():
            return
        if self.document.reset_shape():
            self.on_mask_changed()

    def on_stroke_finished(self) -> None:
        """The stroke painted on the canvas becomes one undo step; a soft brush (hardness below
        100 %) first smooths the outline of what it changed."""
        if self.document is None:
            return
        before, painted = self.document.target, overlay_to_mask(self.canvas.target_item.image)
        hardness = self.hardness_slider.value() / 100.0
        if hardness < 1.0:
            painted = soften_stroke(before, painted, (1.0 - hardness) * self.size_slider.value() / 4.0)
        label = "Eraser" if self.canvas.tool is Tool.ERASER else "Brush"
        self.document.change_target(painted, StepKind.STROKE, label)
        self.on_mask_changed()

    def on_mask_changed(self) -> None:
        """After a stroke, a transform or a mask tool: redraw the new shape and schedule a preview."""
        if self.document is None:
            return
        self._show_target()
        self.canvas.set_preview(None)  # stale now; the new one follows shortly
        self.preview_timer.start()
        self.update_actions()

    def on_transform(self, dx: float, dy: float, scale: float, angle: float) -> None:
        if self.document is None or not self.document.target.any():
            return
        current = self.document.target
        affine = region_affine(current, dx=dx, dy=dy, scale_x=scale, scale_y=scale, angle_degrees=angle)
        self.document.change_target(transform_mask(current, affine), StepKind.TRANSFORM, "Transform")
        self.on_mask_changed()

    # -- segmentation ------------------------------------------------------------------------------
    def _get_segmenter(self):
        from engine.segmentation import load_segmenter

        key = f"{self.settings.sam_checkpoint}|{self.settings.device}"
        if self._segmenter is None or self._segmenter_key != key:
            self._segmenter = load_segmenter(self.settings.sam_checkpoint or None, self.settings.device)
            self._segmenter_key = key
        return self._segmenter

    def prepare_segmenter(self, announce: bool = True) -> None:
        """Compute the segmenter's per-image preparation in the background (SAM embedding); with
        ``announce`` its progress and readiness are shown in the status bar."""
        if self.session is None:
            return
        image = self.session.current
        progress = self.bridge.wrap(lambda fraction, message: announce and self.show_message(
            f"Preparing selection: {message}"))

        def run(token):
            segmenter = self._get_segmenter()
            segmenter.set_image(image, progress)
            return segmenter.name

        def ready(name: str) -> None:
            self.segmenter_name = name
            self.segment_label.setText(f"Select: {name.split(' (')[0]}")
            self.segment_label.setToolTip(f"Segmenter: {name} (Edit ▸ Settings picks a SAM checkpoint)")
            if announce:
                self.show_message("Ready — click a region to select it, or drag a box around it.")

        self.segment_worker.submit(run, on_done=self.bridge.wrap(ready),
                                   on_error=self.bridge.wrap(lambda error: self.show_error("Selection is unavailable", error)),
                                   supersede=True)

    def _run_segmentation(self, mode: str, point: tuple[float, float] | None = None,
                          box: tuple[float, float, float, float] | None = None) -> None:
        """Ask the segmenter for the part under a click or in a box; ``mode`` "add" joins it to the
        region, "subtract" removes it. Clicks made while one is being answered are queued, not lost."""
        if self.session is None:
            return
        self._pending_prompts.append((mode, point, box))
        image, prompts, generation = self.session.current, list(self._pending_prompts), self._selection_generation

        def run(token):
            segmenter = self._get_segmenter()
            segmenter.set_image(image)
            answers = []
            for prompt in prompts:
                if token.cancelled:
                    break
                _, at, rect = prompt
                try:
                    answers.append((prompt, segmenter.predict([at] if at else [], [1] if at else [], rect).best))
                except SimNetError as error:
                    answers.append((prompt, error))
            return answers

        def done(answers: list) -> None:
            if generation != self._selection_generation or self.session is None:
                return
            answered = [prompt for prompt, _ in answers]
            self._pending_prompts = [p for p in self._pending_prompts if all(p is not q for q in answered)]
            region, problems = self.region, []
            for (mode_, _, _), mask in answers:
                if isinstance(mask, BaseException):
                    problems.append(str(mask))
                elif mask.shape == region.shape:
                    if mode_ == "add":
                        # After an Apply the region is the edit's result; a click starts a new selection.
                        region = mask if self.document.selection_from_edit else union(region, mask)
                    else:
                        region = subtract(region, mask)
                    self.document.selection_from_edit = False
            if problems:
                self.last_error = problems[-1]
            if np.array_equal(region, self.region):
                self.show_message(f"Nothing changed: {problems[-1]}" if problems else "The selection did not change.")
                return
            self.document.select(region)
            self._show_masks()
            self.canvas.set_preview(None)
            self.update_actions()
            self.show_message(f"Region selected ({int(region.sum()):,} px). Reshape the red mask (Brush, Eraser, "
                              "Transform), then Apply.")

        def failed(error: BaseException) -> None:
            self._pending_prompts = []
            self.show_error("Selection failed", error)

        self.segment_worker.submit(run, on_done=self.bridge.wrap(done), on_error=self.bridge.wrap(failed))

    def on_point(self, x: float, y: float, positive: bool) -> None:
        """Left click: add the part under the pointer; right or Alt click inside the region: remove it."""
        if self.session is None:
            return
        height, width = self.session.shape
        if not (0 <= x < width and 0 <= y < height):
            return
        if not positive and not self.region[int(y), int(x)]:
            self.show_message("Right-click (or Alt-click) inside the green region to remove that part of it.")
            return
        self._run_segmentation("add" if positive else "subtract", point=(x, y))

    def on_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if self.session is not None:
            self._run_segmentation("add", box=(x0, y0, x1, y1))

    # -- edits -------------------------------------------------------------------------------------
    def _get_manipulator(self) -> Manipulator:
        """The loaded model; one load at a time, whichever thread asks first (the others wait for it)."""
        key = (self.settings.device, str(self.checkpoint or ""))
        with self._manipulator_lock:
            if self._manipulator is None or self._manipulator_key != key:
                self._manipulator = None
                self._manipulator = Manipulator(self.checkpoint, device=self.settings.device)
                self._manipulator_key = key
            return self._manipulator

    def warm_up_model(self) -> None:
        """Load the SIM-Net model on the edit worker now, so the first preview or Apply need not wait."""
        def failed(error: BaseException) -> None:
            # Kept in the status bar (the segmenter's "Ready" must not hide it): Apply cannot work.
            self.model_error = str(error)
            self.device_label.setText("⚠ SIM-Net model not loaded")
            self.device_label.setStyleSheet("color: #c0392b")
            self.device_label.setToolTip(self.model_error)
            self.show_error("The SIM-Net model could not be loaded", error)

        def loaded(manipulator: Manipulator) -> None:
            self.model_error = None
            self.device_label.setStyleSheet("")
            self.device_label.setToolTip("Where SIM-Net runs (Edit ▸ Settings)")
            self._show_device(manipulator)

        def load(token) -> Manipulator:
            manipulator = self._get_manipulator()
            manipulator.warm_up()
            return manipulator

        self.edit_worker.submit(load, on_done=self.bridge.wrap(loaded), on_error=self.bridge.wrap(failed))

    def _show_device(self, manipulator: Manipulator | None) -> None:
        device = str(manipulator.device) if manipulator is not None else self.settings.device
        if self.settings.device == "auto" and manipulator is not None:
            device += " (auto)"
        self.device_label.setText(f"Device: {device}")

    def _show_apply_time(self) -> None:
        if self.applying:
            self.show_message(f"Applying the edit at full resolution… {time.perf_counter() - self._apply_started:.0f} s "
                              "(Ctrl+. cancels)")

    def request_preview(self) -> None:
        if self.session is None or self.applying or not self.region.any():
            return
        target = self.target_mask()
        if not target.any() or np.array_equal(target, self.region):
            self.canvas.set_preview(None)
            return
        image, source, options = self.session.current, self.region.copy(), self.edit_options()

        def run(token):
            return self._get_manipulator().edit(image, source, target, max_side=PREVIEW_SIDE, cancel=token,
                                                align_steps=PREVIEW_ALIGN_STEPS, **options)

        def done(result) -> None:
            if self.applying or not result.changed:
                return
            self.canvas.set_preview(array_to_qimage(result.image), result.box)
            self.show_message("Preview (reduced resolution). Apply (Ctrl+Return) makes it at full resolution.")
            self.preview_shown.emit()

        self.edit_worker.submit(run, on_done=self.bridge.wrap(done),
                                on_error=self.bridge.wrap(lambda error: self.show_message(f"Preview failed: {error}")))

    def apply_edit(self) -> None:
        if self.session is None or not self.region.any() or self.applying:
            return
        target = self.target_mask()
        if not target.any():
            self.show_error("Nothing to apply", "the new shape is empty: paint it with the Brush first")
            return
        self.preview_timer.stop()
        image, source, options = self.session.current, self.region.copy(), self.edit_options()
        self.applying = True
        self.progress.show()
        self.show_message("Applying the edit at full resolution… (Ctrl+. cancels)")
        self.update_actions()
        started = self._apply_started = time.perf_counter()
        self.apply_clock.start()

        def run(token):
            result = self._get_manipulator().edit(image, source, target, cancel=token, **options)
            # The history step (compressing the changed area) is made here too, off the GUI thread.
            step = make_step(image, result.image, source, target, "Reshape", result.timings) if result.changed else None
            return result, step

        def done(outcome) -> None:
            result, step = outcome
            self._finish_apply()
            if step is None:
                self.show_message("The new shape equals the region: nothing to do.")
                return
            self.document.apply(step, result.image, result.warped_mask)
            self._forget_prompts()
            self._show_current()
            self._show_masks()
            self.canvas.set_preview(None)
            self.canvas.set_fills_visible(False)  # look at the result; the outlines show the new region
            self.last_timings = dict(result.timings, wall=time.perf_counter() - started)
            self.timing_label.setText(f"Last edit {result.timings.get('total', self.last_timings['wall']):.2f} s")
            self.timing_label.setToolTip("The last Apply, in seconds:\n" + "\n".join(
                f"{name}: {seconds:.3f}" for name, seconds in self.last_timings.items()))
            self._show_device(self._manipulator)
            for message in result.messages:
                QMessageBox.information(self, "Edit", message) if self.isVisible() else self.show_message(message)
            self.show_message("Edit applied. Reshape it again, click elsewhere for a new edit, or undo (Ctrl+Z).")
            self.autosave_timer.start()
            self.prepare_segmenter(announce=False)
            self.edit_applied.emit()

        def failed(error: BaseException) -> None:
            self._finish_apply()
            self.show_error("The edit failed", error)

        def cancelled() -> None:
            self._finish_apply()
            self.show_message("Edit cancelled; nothing changed.")

        self.edit_worker.submit(run, on_done=self.bridge.wrap(done), on_error=self.bridge.wrap(failed),
                                on_cancelled=self.bridge.wrap(cancelled))

    def _finish_apply(self) -> None:
        self.applying = False
        self.apply_clock.stop()
        self.progress.hide()
        self.canvas.set_preview(None)
        self.update_actions()

    def cancel_edit(self) -> None:
        self.edit_worker.cancel_all()

    def _show_current(self) -> None:
        self.canvas.set_image(array_to_qimage(self.session.current))
        self.history.show_session(self.session)
        self._update_compare()
        self.update_actions()

    # -- history -----------------------------------------------------------------------------------
    def undo(self) -> None:
        if self.document is None or self.applying:
            return
        change = self.document.undo()
        if change is not None:
            self._after_change(change)
            if change.kind is StepKind.EDIT:
                self.show_message("Edit undone: its region and new shape are selected again (Esc clears them).")

    def redo(self) -> None:
        if self.document is None or self.applying:
            return
        change = self.document.redo()
        if change is not None:
            self._after_change(change)

    def _after_change(self, change: Change) -> None:
        """Show what an undo, a redo or a move through the history changed."""
        if change.image:  # the image changed under the selection: its clicks are void
            self._forget_prompts()
            self._show_current()
            self.prepare_segmenter(announce=False)
            self.autosave_timer.start()
        self._show_masks()
        self.canvas.set_preview(None)
        if not change.image:
            self.preview_timer.start()
        self.update_actions()

    def go_to_step(self, position: int) -> None:
        if self.document is None or self.applying:
            return
        self._after_change(self.document.go_to(position))
        total = len(self.session.steps)
        self.show_message(("The original artwork" if position == 0 else f"After edit {position} of {total}")
                          + (": later edits stay in the history until a new edit is applied." if position < total else "."))

    # -- compare, autosave, settings ---------------------------------------------------------------
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

    def _update_compare(self) -> None:
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

    def autosave_now(self) -> None:
        if self.session is None or not self.session.steps:
            return
        copy, session_id = snapshot(self.session), self.session_id
        self.autosave_worker.submit(lambda token: autosave.write_autosave(copy, session_id),
                                    on_done=self.bridge.wrap(lambda _: self._drop_recovered_autosaves()),
                                    on_error=self.bridge.wrap(lambda error: self.show_message(f"Autosave failed: {error}")),
                                    supersede=True)

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
            answer = QMessageBox.question(self, "Recover unsaved work?", text,
                                          QMessageBox.Yes | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Yes)
            if answer == QMessageBox.Discard:
                autosave.discard(item.path)
                continue
            if answer == QMessageBox.Yes and self.open_session(item.path, recovered=True):
                self.recovered_autosaves.append(item.path)
                self.autosave_now()
                if later:
                    self.show_message(f"{later} more autosaved session{'s are' if later > 1 else ' is'} kept; "
                                      "they will be offered the next time SIM-Net Studio starts.")
            return

    def edit_settings(self) -> None:
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self._show_device(None)
            self.prepare_segmenter()
            if self.session is not None:
                self.warm_up_model()

    def about(self) -> None:
        QMessageBox.about(self, "About SIM-Net Studio",
                          "SIM-Net Studio reshapes regions of artworks with SIM-Net (Learning to Manipulate Artistic "
                          "Images, AAAI 2024): the region takes its new shape in the painting's own texture.\n\n"
                          + FIRST_RUN_HINT)

    def show_first_run_hint(self) -> None:
        if self.settings.first_run:
            self.show_message(FIRST_RUN_HINT)
            QTimer.singleShot(0, lambda: QMessageBox.information(self, "Welcome to SIM-Net Studio", FIRST_RUN_HINT))
            self.settings.mark_first_run_done()

    def closeEvent(self, event) -> None:  # noqa: N802
        if not self.confirm_discard():
            event.ignore()
            return
        self.edit_worker.shutdown(1.0)
        self.segment_worker.shutdown(1.0)
        self.autosave_worker.shutdown(5.0)
        self.reach.shutdown()
        self.exporter.shutdown()
        autosave.discard(autosave.autosave_path(self.session_id))
        event.accept()

    def shutdown_workers(self) -> None:
        for worker in (self.edit_worker, self.segment_worker, self.autosave_worker):
            worker.shutdown(2.0)
        self.reach.shutdown()
        self.exporter.shutdown()

