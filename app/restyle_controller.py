"""The Restyle tool (R): paint the selected region in the style of an exemplar region.

A panel docked beside the canvas. Either order works. With the region to restyle selected, the
tool opens picking the exemplar on the painting: a click or a box on the canvas is answered by the
segmenter (on this tool's worker) as the exemplar region, shown with a blue outline, and the
selection stays (*Pick Exemplar on Painting* picks again). Or the exemplar is selected first, like
any region (click, box, paint), and taken with *Use Selection as Exemplar*; then the region to
restyle is selected. The exemplar may also come from another image opened in the panel (*Open
Exemplar Image…*, then a click or a box on it) or from another image and its mask file
(*Exemplar from Files…*). The restyle is computed once on the
worker (``engine.restyle.prepare_restyle``) and the Strength slider only re-blends the region's box
(``Restyled.box_at_strength``), so the preview follows the slider at once. Apply makes the result
at the chosen strength one History step (``engine.restyle_pipeline.restyle_step``), undoable and
saved in sessions like a reshape.

The controller is given only what it works with: the workspace (the document, whether an Apply
runs, the GUI-thread bridge, the signals), the canvas, the settings (the reach) and the widget its
panel docks in; it runs on a worker of its own. An Apply sets ``workspace.applying`` like a
reshape's, and announces the changed image with ``workspace.image_changed``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QDockWidget, QFileDialog, QWidget

from app.canvas import CanvasView, Tool
from app.convert import array_to_qimage, polygons_to_path
from app.exemplars import FIRST, SECOND, Exemplar, Exemplars
from app.restyle_panel import RestylePanel
from app.segmenter_slot import SegmenterSlot
from app.settings import Settings
from app.workspace import Workspace
from engine.candidates import CandidateSet
from engine.document import Document
from engine.errors import SimNetError
from engine.imageio import load_image, load_mask
from engine.masks import outline_polygons
from engine.restyle import Restyled, prepare_restyle
from engine.restyle_pipeline import restyle_step
from engine.worker import Worker

#: After the reshape preview's own delay (350 ms), whose "no new shape" answer hides any preview.
PREPARE_DELAY_MS = 400


class RestyleController(QObject):
    def __init__(self, workspace: Workspace, canvas: CanvasView, settings: Settings, dialog_parent: QWidget,
                 painting_segmenter: SegmenterSlot | None = None) -> None:
        """``painting_segmenter``: the selection's segmenter, to pick on the painting with (its embedding of the
        painting is there already); another image is segmented by a segmenter of this tool's own."""
        super().__init__(dialog_parent)
        self.workspace, self.canvas, self.settings = workspace, canvas, settings
        self.worker = Worker("simnet-restyle")
        self.segmenter = SegmenterSlot(settings)
        self.painting_segmenter = painting_segmenter or self.segmenter
        self.other_image: np.ndarray | None = None
        self.other_name = ""
        self.exemplars = Exemplars()
        #: A copy of the painting on the canvas (undo and redo change the document's image in place), kept while
        #: its image version holds: what a pick on the painting segments and takes its exemplar from.
        self._painting: tuple[Document, int, np.ndarray] | None = None
        self._tool_before_pick: Tool | None = None
        self.prepared: Restyled | None = None
        self._prepared_for: tuple | None = None
        #: The artist asked this tool for a restyle (an exemplar, mix, strength or reach given) since the image last
        #: changed. A selection that an Apply or an undo left (an edit's result) is restyled only when asked: a
        #: preview over the result of an Apply (a restyle's: twice over) or over an undone image would belie it.
        self._asked = True
        self._preview_image: QImage | None = None
        self.prepare_timer = QTimer(self, singleShot=True, interval=PREPARE_DELAY_MS)
        self.prepare_timer.timeout.connect(self.prepare)

        self.panel = RestylePanel({
            "pick": self._pick_toggled, "use_selection": self.use_selection_as_exemplar,
            "open_image": self.choose_exemplar_image, "from_files": self.choose_exemplar_files,
            "exemplar_clicked": lambda x, y: self.segment_exemplar(point=(x, y)),
            "exemplar_boxed": lambda *box: self.segment_exemplar(box=box),
            "second": self._second_toggled, "remove_second": self.remove_second_exemplar,
            "mix": self.mix_changed, "strength": self.strength_changed, "apply": self.apply})
        self.panel.exemplar_label.setText(self.exemplars.describe())
        self.dock = QDockWidget("Restyle", dialog_parent)
        self.dock.setObjectName("restyle")
        self.dock.setWidget(self.panel)
        self.dock.hide()
        self.dock.visibilityChanged.connect(self._visibility_changed)
        self.action = QAction("&Restyle", dialog_parent)
        self.action.setShortcut(QKeySequence("R"))
        self.action.setToolTip("Restyle the selected region from an exemplar region (R)")
        self.action.setCheckable(True)
        self.action.toggled.connect(self.dock.setVisible)
        dialog_parent.addAction(self.action)  # R works wherever the focus is
        self.stop_picking_action = QAction("Stop Picking the Exemplar", dialog_parent, enabled=False)
        self.stop_picking_action.setShortcut(QKeySequence(Qt.Key_Escape))
        self.stop_picking_action.triggered.connect(lambda: self.panel.pick_button.setChecked(False))
        dialog_parent.addAction(self.stop_picking_action)
        self.update_buttons()
        workspace.actions_changed.connect(self.update_buttons)
        # The selection or the image changed: the prepared restyle is stale.
        workspace.masks_shown.connect(self.selection_changed)
        for signal in (workspace.image_changed, workspace.document_replaced):
            signal.connect(self.image_changed)
        workspace.document_replaced.connect(self._painting_replaced)
        canvas.exemplar_clicked.connect(lambda x, y: self.pick_on_painting(point=(x, y)))
        canvas.exemplar_boxed.connect(lambda *box: self.pick_on_painting(box=box))
        canvas.tool_changed.connect(self._tool_changed)
        #: Where the panel's messages go (the status bar, through the workspace); tests may replace it.
        self.say: Callable[[str], None] = workspace.say

    @property
    def strength(self) -> float:
        return self.panel.strength_slider.value() / 100.0

    @property
    def exemplar(self) -> np.ndarray | None:
        """The (first) exemplar's painting."""
        return self.exemplars.first.image if self.exemplars.first is not None else None

    @property
    def exemplar_region(self) -> np.ndarray | None:
        return self.exemplars.first.region if self.exemplars.first is not None else None

    # -- the exemplar ------------------------------------------------------------------------------
    def use_selection_as_exemplar(self) -> None:
        document = self.workspace.document
        if document is None or not document.region.any():
            self.say("Select the exemplar region first (click it, or drag a box).")
            return
        source, finished = self._painting_source(document)
        region, version = document.region.copy(), document.image_version

        def done(image: np.ndarray) -> None:
            finished()
            if self.workspace.document is not document or document.image_version != version:
                self.say("The painting changed meanwhile; take the exemplar again.")
                return
            self._painting = (document, version, image)
            self.set_exemplar(image, region, "a region of this painting", on_canvas=True)
            self.say("Exemplar taken. Now select the region to restyle.")

        def failed(error: BaseException) -> None:
            finished()
            self.say(f"Exemplar not taken: {error}")

        bridge = self.workspace.bridge
        self.worker.submit(lambda token: source(), on_done=bridge.wrap(done), on_error=bridge.wrap(failed),
                           on_cancelled=bridge.wrap(finished), supersede=False)

    def start_picking(self) -> None:
        """The next click or box on the canvas picks the exemplar region; the selection stays."""
        self.panel.pick_button.setChecked(True)

    def _pick_toggled(self, on: bool) -> None:
        canvas = self.canvas
        self.stop_picking_action.setEnabled(on)
        if on and canvas.tool is not Tool.EXEMPLAR:
            self._tool_before_pick = canvas.tool
            canvas.set_tool(Tool.EXEMPLAR)
            self.say("Click the exemplar region on the painting, or drag a box around it (the selection stays; "
                     "Esc stops picking).")
        elif not on and canvas.tool is Tool.EXEMPLAR:
            canvas.set_tool(self._tool_before_pick or Tool.SELECT)

    def _tool_changed(self, tool: Tool) -> None:
        if tool is not Tool.EXEMPLAR and self.panel.pick_button.isChecked():  # another tool was taken: no more picking
            self.panel.pick_button.setChecked(False)

    def pick_on_painting(self, point: tuple[float, float] | None = None,
                         box: tuple[float, float, float, float] | None = None) -> None:
        """The segmenter's answer to a click or a box on the painting becomes the exemplar region."""
        document = self.workspace.document
        if document is None:
            return
        version = document.image_version
        painting, finished = self._painting_source(document)

        def found(mask: np.ndarray, image: np.ndarray) -> None:
            if self.workspace.document is not document or document.image_version != version:
                self.say("The painting changed meanwhile; pick the exemplar again.")
                return
            self._painting = (document, version, image)
            self.set_exemplar(image, mask, "a region of this painting", on_canvas=True)
            self.say("Exemplar taken; restyling the selection…" if document.region.any()
                     else "Exemplar taken. Now select the region to restyle.")

        self._segment(self.painting_segmenter, painting, point, box, found, finished)

    def _painting_source(self, document: Document) -> tuple[Callable[[], np.ndarray], Callable[[], None]]:
        """A copy of the painting as it is now (undo and redo change the document's image in place): a function
        giving it, to call on the worker (an 8K copy takes a good part of a second), and one to call on the GUI
        thread afterwards in any case (it gives back the image lent for the copy). Kept once per image version."""
        kept = self._painting
        if kept is not None and kept[0] is document and kept[1] == document.image_version:
            image = kept[2]
            return (lambda: image), (lambda: None)
        lent = document.lend_image()
        return lent.copy, (lambda: document.return_image(lent))

    def choose_exemplar_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.dock.parentWidget(), "Exemplar image", "",
                                              "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp)")
        if path:
            self.open_exemplar_image(path)

    def open_exemplar_image(self, path: str | Path) -> None:
        """Show another image in the panel (read on this tool's worker: an 8K file takes a second); its region
        is then picked by clicking or boxing on it. A file that cannot be read is said so; nothing changes."""
        name = Path(path).name

        def run(token) -> np.ndarray:
            return load_image(path).pixels

        def done(pixels: np.ndarray) -> None:
            self.other_image, self.other_name = pixels, name
            self.panel.pick_button.setChecked(False)
            self.panel.exemplar_view.set_image(pixels)
            QTimer.singleShot(0, self._fit_panel)  # room for the image's view
            self.say(f"Click the exemplar region on {name} (or drag a box around it).")

        self.say(f"Opening {name}…")
        self.worker.submit(run, on_done=self.workspace.bridge.wrap(done), supersede=False,
                           on_error=self.workspace.bridge.wrap(
                               lambda error: self.say(f"Exemplar image not opened: {error}")))

    def segment_exemplar(self, point: tuple[float, float] | None = None,
                         box: tuple[float, float, float, float] | None = None) -> None:
        """The segmenter's first answer for a click or a box on the exemplar image becomes the exemplar region."""
        image = self.other_image
        if image is None:
            return

        def found(mask: np.ndarray, _: np.ndarray) -> None:
            if image is not self.other_image:
                return
            self.panel.exemplar_view.show_region(mask)
            self.set_exemplar(image, mask, f"a region of {self.other_name}")

        self._segment(self.segmenter, lambda: image, point, box, found)

    def _segment(self, slot: SegmenterSlot, source: Callable[[], np.ndarray], point: tuple[float, float] | None,
                 box: tuple[float, float, float, float] | None, found: Callable[[np.ndarray, np.ndarray], None],
                 finished: Callable[[], None] = lambda: None) -> None:
        """Ask ``slot``'s segmenter (on this tool's worker) for the region a click or a box on the image ``source``
        gives (called on the worker) means, as a selection would take it (its first candidate). ``found`` gets a
        non-empty answer and that image on the GUI thread; ``finished`` is called there in any case first."""

        def run(token) -> tuple[np.ndarray, np.ndarray]:
            image = source()
            with slot.lock:
                segmenter = slot.get()
                segmenter.set_image(image)  # at once when it holds this image's embedding already
                prediction = segmenter.predict(points=[point] if point else [], labels=[1] if point else [],
                                               box=box)
            candidates = CandidateSet.from_prediction(prediction, box=box is not None)
            mask = candidates.selection(candidates.default) if candidates.default is not None else prediction.best
            return mask, image

        def done(answer: tuple[np.ndarray, np.ndarray]) -> None:
            finished()
            mask, image = answer
            if not mask.any():
                self.say("Nothing found there; click another place or drag a box.")
                return
            found(mask, image)

        def failed(error: BaseException) -> None:
            finished()
            self.say(f"Segmentation failed: {error}")

        self.say("Finding the exemplar region…")
        bridge = self.workspace.bridge
        self.worker.submit(run, on_done=bridge.wrap(done), on_error=bridge.wrap(failed),
                           on_cancelled=bridge.wrap(finished), supersede=False)

    def choose_exemplar_files(self) -> None:
        parent = self.dock.parentWidget()
        image_path, _ = QFileDialog.getOpenFileName(parent, "Exemplar image", "",
                                                    "Images (*.png *.jpg *.jpeg *.tif *.tiff *.webp)")
        if not image_path:
            return
        mask_path, _ = QFileDialog.getOpenFileName(parent, "The exemplar's region mask (white = region)",
                                                   str(Path(image_path).parent), "Images (*.png *.tif *.tiff)")
        if mask_path:
            self.load_exemplar(image_path, mask_path)

    def load_exemplar(self, image_path: str | Path, mask_path: str | Path) -> bool:
        try:
            image = load_image(image_path).pixels
            region = load_mask(mask_path, image.shape[:2])
        except SimNetError as error:
            self.say(f"Exemplar not loaded: {error}")
            return False
        if not region.any():
            self.say(f"Exemplar not loaded: the mask {mask_path} is empty")
            return False
        self.set_exemplar(image, region, Path(image_path).name)
        return True

    def set_exemplar(self, image: np.ndarray, region: np.ndarray, description: str, on_canvas: bool = False) -> None:
        """Restyle from ``region`` of ``image`` (the second exemplar when Add Second Exemplar is on);
        ``on_canvas``: it lies in the painting shown (outlined there)."""
        self.panel.pick_button.setChecked(False)  # however it was taken, the canvas selects again
        wanted = SECOND if self.panel.second_button.isChecked() else FIRST
        self.exemplars.put(Exemplar(image, region, description, on_canvas), wanted)
        self.panel.second_button.setChecked(False)
        self._exemplars_changed()

    def remove_second_exemplar(self) -> None:
        self.exemplars.remove_second()
        self._exemplars_changed()

    def _fit_panel(self) -> None:
        self.panel.fit(self.dock.parentWidget().height())

    def _second_toggled(self, on: bool) -> None:
        if on:
            self.say("Now take the second exemplar: pick it on the painting, use the selection, or open an image.")

    def mix_changed(self, value: int) -> None:
        self.panel.mix_label.setText(f"Mix {value} %")
        self.exemplars.set_mix(value / 100.0)
        if self.exemplars.second is not None:
            self._asked = True
            self.forget()
            self.schedule()  # recomputed after a short pause: the slider may still be moving

    def _exemplars_changed(self) -> None:
        self._asked = True
        self.panel.exemplar_label.setText(self.exemplars.describe())
        has_second = self.exemplars.second is not None
        self.panel.show_second(has_second)
        if self.dock.isVisible():
            QTimer.singleShot(0, self._fit_panel)  # once the panel has laid out its new texts
        self._show_exemplar_outline()
        self.forget()
        self.schedule()

    def _show_exemplar_outline(self) -> None:
        regions = self.exemplars.on_canvas() if self.dock.isVisible() else []
        polygons = [polygon for region in regions for polygon in outline_polygons(region)]
        self.canvas.set_exemplar_outline(polygons_to_path(polygons) if polygons else None)

    def _painting_replaced(self) -> None:
        """Another painting (or session) was opened: exemplars taken from the one before are no longer outlined."""
        self.panel.pick_button.setChecked(False)
        self._painting = None
        if self.exemplars.painting_replaced():
            self.panel.exemplar_label.setText(self.exemplars.describe())
            self._show_exemplar_outline()

    # -- computing and previewing ------------------------------------------------------------------
    def _key(self, document: Document) -> tuple:
        # The image version, not the image: undo and redo change the image in place.
        return (id(document), document.image_version, np.packbits(document.region).tobytes(), self.settings.reach,
                self.exemplars.key())

    def forget(self) -> None:
        self.prepared, self._prepared_for, self._preview_image = None, None, None
        self.canvas.set_preview(None)

    def region_changed(self, *_) -> None:
        """The reach changed (the artist asks for a restyle with it): the prepared restyle is stale."""
        self._asked = True
        self.selection_changed()

    def selection_changed(self) -> None:
        """The selection changed: the prepared restyle is stale."""
        if self.prepared is not None:
            self.forget()
        self.schedule()

    def image_changed(self, *_) -> None:
        """An edit was applied, undone or redone, or another painting opened: the prepared restyle is stale, and
        the selection that follows is restyled only when the artist asks (see ``_asked``)."""
        self._asked = False
        self.selection_changed()

    def schedule(self) -> None:
        if self.dock.isVisible() and self.exemplar is not None:
            self.prepare_timer.start()
        self.update_buttons()

    def _visibility_changed(self, visible: bool) -> None:
        self.action.setChecked(visible)
        self._show_exemplar_outline()
        if visible:
            self._asked = True  # opening the tool asks for a restyle of what is selected
            self._fit_panel()
            document = self.workspace.document
            if self.exemplar is None and document is not None and document.region.any():
                self.start_picking()  # the region to restyle is selected: the next click picks the exemplar
            self.schedule()
        else:
            self.panel.pick_button.setChecked(False)
            self.prepare_timer.stop()
            self.forget()

    def prepare(self) -> None:
        document = self.workspace.document
        if document is None or self.exemplar is None or not document.region.any() or self.workspace.applying:
            return
        key = self._key(document)
        if document.selection_from_edit and not self._asked:
            return
        image, region, reach = document.lend_image(), document.region.copy(), self.settings.reach
        exemplars = self.exemplars.restyle_arguments()
        self.say("Restyling…")

        def run(token) -> Restyled:
            return prepare_restyle(image, region, reach=reach, **exemplars)

        def done(restyled: Restyled) -> None:
            document.return_image(image)
            if self.workspace.document is not document or self._key(document) != key or not self.dock.isVisible():
                return  # the selection moved on meanwhile; a newer request follows
            self.prepared, self._prepared_for = restyled, key
            self._preview_image = array_to_qimage(restyled.image)
            self.show_preview()
            self.say("Restyle preview. Move Strength to taste, then Apply Restyle.")
            self.update_buttons()

        def failed(error: BaseException) -> None:
            document.return_image(image)
            self.say(f"Restyle failed: {error}")

        self.worker.submit(run, on_done=self.workspace.bridge.wrap(done), on_error=self.workspace.bridge.wrap(failed),
                           on_cancelled=self.workspace.bridge.wrap(lambda: document.return_image(image)))

    def strength_changed(self, value: int) -> None:
        self.panel.strength_label.setText(f"Strength {value} %")
        if self.prepared is None and not self._asked:  # after an Apply or an undo: restyle what is there now
            self._asked = True
            self.schedule()
        self.show_preview()

    def show_preview(self) -> None:
        """Re-blend the box at the slider's strength and show it over the canvas (no recomputation)."""
        if self.prepared is None or self._preview_image is None:
            return
        x0, y0, x1, y1 = self.prepared.box
        patch = array_to_qimage(self.prepared.box_at_strength(self.strength))
        painter = QPainter(self._preview_image)
        painter.drawImage(x0, y0, patch)
        painter.end()
        self.canvas.set_preview(self._preview_image, (x0, y0, x1, y1))

    # -- apply -------------------------------------------------------------------------------------
    def update_buttons(self) -> None:
        document = self.workspace.document
        self.panel.use_selection_button.setEnabled(document is not None)
        self.panel.pick_button.setEnabled(document is not None)
        self.panel.second_button.setEnabled(self.exemplars.first is not None)
        self.panel.apply_button.setEnabled(self.prepared is not None and not self.workspace.applying)

    def apply(self) -> None:
        document = self.workspace.document
        if (document is None or self.prepared is None or self.workspace.applying
                or self._prepared_for != self._key(document)):
            return
        restyled, region, strength = self.prepared, document.region.copy(), self.strength
        current = document.session.current
        self.workspace.applying = True
        self.update_buttons()
        self.say("Applying the restyle at full resolution…")

        def run(token):
            return restyle_step(current, restyled, region, strength)

        def done(outcome) -> None:
            step, result = outcome
            self.workspace.applying = False
            self.forget()
            if step is None:
                self.say("Strength 0 %: nothing to apply.")
                self.update_buttons()
                return
            document.apply(step, result, region)
            self.workspace.image_changed.emit(step.box)
            self.workspace.masks_replaced.emit()
            self.canvas.set_fills_visible(False)  # look at the result, as after a reshape; the outline stays
            self.say("Restyle applied (one step in History; Ctrl+Z undoes it).")
            self.update_buttons()

        def failed(error: BaseException) -> None:
            self.workspace.applying = False
            self.update_buttons()
            self.say(f"Restyle failed: {error}")

        def cancelled() -> None:
            self.workspace.applying = False
            self.update_buttons()
            self.say("Restyle cancelled; nothing changed.")

        # Not superseded by a later preview: an Apply always finishes (or fails) and says so.
        self.worker.submit(run, on_done=self.workspace.bridge.wrap(done), on_error=self.workspace.bridge.wrap(failed),
                           on_cancelled=self.workspace.bridge.wrap(cancelled), supersede=False)
