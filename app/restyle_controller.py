"""The Restyle tool (R): paint the selected region in the style of an exemplar region.

A panel docked beside the canvas. Either order works. With the region to restyle selected, the
tool opens picking the exemplar on the painting: a click or a box on the canvas is answered by the
segmenter (on this tool's worker) as the exemplar region, shown with a blue outline, and the
selection stays (*Pick Exemplar on Painting* picks again). Or the exemplar is selected first, like
any region (click, box, paint), and taken with *Use Selection as Exemplar*; then the region to
restyle is selected. The exemplar may also come from another image opened in the panel (*Open
Exemplar Image…*, then a click or a box on it) or from another image and its mask file
(*Exemplar from Files…*); all of that is ``app/exemplar_picker.py``'s, which hands the exemplar here
(``set_exemplar``). The restyle is computed once on the
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

from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QWidget

from app.canvas import CanvasView
from app.convert import array_to_qimage, polygons_to_path
from app.exemplar_picker import ExemplarPicker
from app.exemplars import FIRST, SECOND, Exemplar, Exemplars
from app.restyle_panel import RestylePanel
from app.segmenter_slot import SegmenterSlot
from app.settings import Settings
from app.workspace import Workspace
from engine.document import Document
from engine.masks import outline_polygons
from engine.restyle import Restyled, prepare_restyle
from engine.restyle_pipeline import restyle_step
from engine.worker import Worker

#: After the reshape preview's own delay (350 ms), whose "no new shape" answer hides any preview.
PREPARE_DELAY_MS = 400
RESHAPE_FIRST = "The selection has a new shape. Apply the reshape, or reset the new shape, before restyling."


class RestyleController(QObject):
    def __init__(self, workspace: Workspace, canvas: CanvasView, settings: Settings, dialog_parent: QWidget,
                 painting_segmenter: SegmenterSlot | None = None) -> None:
        """``painting_segmenter``: the selection's segmenter, to pick on the painting with (its embedding of the
        painting is there already); another image is segmented by a segmenter of this tool's own."""
        super().__init__(dialog_parent)
        self.workspace, self.canvas, self.settings = workspace, canvas, settings
        self.worker = Worker("simnet-restyle")
        self.exemplars = Exemplars()
        self.prepared: Restyled | None = None
        self._prepared_for: tuple | None = None
        #: The artist asked this tool for a restyle (an exemplar, mix, strength or reach given) since the image last
        #: changed. A selection that an Apply or an undo left (an edit's result) is restyled only when asked: a
        #: preview over the result of an Apply (a restyle's: twice over) or over an undone image would belie it.
        self._asked = True
        #: Which exemplar (first or second) was taken last: another candidate of its click takes its place.
        self._last_slot: int | None = None
        self.prepare_timer = QTimer(self, singleShot=True, interval=PREPARE_DELAY_MS)
        self.prepare_timer.timeout.connect(self.prepare)

        self.panel = RestylePanel({
            "pick": lambda on: self.picker.pick_toggled(on),
            "use_selection": lambda: self.picker.use_selection_as_exemplar(),
            "open_image": lambda: self.picker.choose_exemplar_image(),
            "from_files": lambda: self.picker.choose_exemplar_files(),
            "exemplar_clicked": lambda x, y: self.picker.segment_exemplar(point=(x, y)),
            "exemplar_boxed": lambda *box: self.picker.segment_exemplar(box=box),
            "exemplar_step": lambda steps: self.picker.step(steps),
            "second": self._second_toggled, "remove_second": self.remove_second_exemplar,
            "mix": self.mix_changed, "strength": self.strength_changed, "apply": self.apply})
        #: Where the exemplar comes from (its messages go through ``say``, which tests may replace).
        self.picker = ExemplarPicker(workspace, canvas, self.panel, self.worker, settings, dialog_parent,
                                     take=self.set_exemplar, say=lambda text: self.say(text),
                                     image_shown=lambda: QTimer.singleShot(0, self._fit_panel),
                                     painting_segmenter=painting_segmenter)
        self._describe_exemplars()
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
        self.update_buttons()
        workspace.actions_changed.connect(self.update_buttons)
        # The selection or the image changed: the prepared restyle is stale.
        workspace.masks_shown.connect(self.selection_changed)
        for signal in (workspace.image_changed, workspace.document_replaced):
            signal.connect(self.image_changed)
        workspace.document_replaced.connect(self._painting_replaced)
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
    def set_exemplar(self, image: np.ndarray, region: np.ndarray, description: str, on_canvas: bool = False,
                     again: bool = False) -> None:
        """Restyle from ``region`` of ``image`` (the second exemplar when Add Second Exemplar is on);
        ``on_canvas``: it lies in the painting shown (outlined there); ``again``: in place of the exemplar taken
        last (another candidate of the same click)."""
        self.panel.pick_button.setChecked(False)  # however it was taken, the canvas selects again
        if again and self._last_slot is not None:
            wanted = self._last_slot
        else:
            wanted = SECOND if self.panel.second_button.isChecked() else FIRST
        self._last_slot = self.exemplars.put(Exemplar(image, region, description, on_canvas), wanted)
        self.panel.second_button.setChecked(False)
        self._exemplars_changed()

    def remove_second_exemplar(self) -> None:
        self.exemplars.remove_second()
        if self._last_slot == SECOND:
            self.picker.forget_pick()
            self._last_slot = None
        self._exemplars_changed()

    def _describe_exemplars(self) -> None:
        document = self.workspace.document
        self.panel.exemplar_label.setText(self.exemplars.describe(None if document is None else document.session.current))

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
        self._describe_exemplars()
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
        self.picker.painting_replaced()
        if self.exemplars.painting_replaced():
            self._show_exemplar_outline()
        self._describe_exemplars()  # the painting may be grey where the one before had colour

    # -- computing and previewing ------------------------------------------------------------------
    def _key(self, document: Document) -> tuple:
        # The image version, not the image: undo and redo change the image in place.
        return (id(document), document.image_version, np.packbits(document.region).tobytes(), self.settings.reach,
                self.exemplars.key())

    def forget(self) -> None:
        if self.prepared is not None:  # its preview is on the canvas's preview layer (never a reshape's)
            self.canvas.set_preview(None)
        self.prepared, self._prepared_for = None, None

    @staticmethod
    def _reshaping(document: Document) -> bool:
        """The selection has a new shape not yet applied: its reshape preview comes first (both would share the
        canvas's preview layer), and what a restyle would paint is the region's place before the reshape."""
        return bool(document.target.any()) and document.reshaped

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
                self.picker.start_picking()  # the region to restyle is selected: the next click picks the exemplar
            self.schedule()
        else:
            self.panel.pick_button.setChecked(False)
            self.prepare_timer.stop()
            self.forget()

    def prepare(self) -> None:
        document = self.workspace.document
        if not self._can_prepare(document, self._asked):
            return  # (a reshape waiting to be applied: the panel says why, see update_buttons)
        key = self._key(document)
        image, region, reach = document.lend_image(), document.region.copy(), self.settings.reach
        exemplars = self.exemplars.restyle_arguments()
        self.say("Restyling…")

        def run(token) -> Restyled:
            return prepare_restyle(image, region, reach=reach, **exemplars)

        def done(restyled: Restyled) -> None:
            document.return_image(image)
            if (self.workspace.document is not document or self._key(document) != key or not self.dock.isVisible()
                    or self._reshaping(document)):
                return  # the selection moved on meanwhile; a newer request follows
            self.prepared, self._prepared_for = restyled, key
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
        if self.prepared is None:
            return
        x0, y0 = self.prepared.box[:2]
        self.canvas.show_patch(array_to_qimage(self.prepared.box_at_strength(self.strength)), x0, y0, 1.0, 1.0)

    # -- apply -------------------------------------------------------------------------------------
    def update_buttons(self) -> None:
        document = self.workspace.document
        self.panel.use_selection_button.setEnabled(document is not None)
        self.panel.pick_button.setEnabled(document is not None)
        self.panel.second_button.setEnabled(self.exemplars.first is not None)
        asking = self.prepared is None and self._may_ask(document)
        self.panel.show_apply(preview_first=asking,
                              enabled=asking or (self.prepared is not None and not self.workspace.applying))
        reshaping = (self.dock.isVisible() and document is not None and self.exemplars.first is not None
                     and self._reshaping(document))  # (an 8K mask compare: only while the panel shows)
        if self.panel.show_hint(RESHAPE_FIRST if reshaping else None) and self.dock.isVisible():
            QTimer.singleShot(0, self._fit_panel)  # room for the hint, or none kept for it

    def _can_prepare(self, document: Document | None, asked: bool) -> bool:
        """Whether the selection can be restyled now, the artist having ``asked`` or not (see ``_asked``): a
        selection an edit left is restyled only when asked, and a reshape waiting to be applied comes first."""
        return (document is not None and self.exemplar is not None and bool(document.region.any())
                and not self.workspace.applying and (asked or not document.selection_from_edit)
                and not self._reshaping(document))

    def _may_ask(self, document: Document | None) -> bool:
        """Whether nothing is previewed only because the artist has not asked since an Apply or an undo: the
        Apply button then previews first."""
        return (not self._asked and self.dock.isVisible() and document is not None and document.selection_from_edit
                and self._can_prepare(document, asked=True))

    def apply(self) -> None:
        document = self.workspace.document
        if self.prepared is None and self._may_ask(document):  # "Preview Restyle": restyle what is there now
            self._asked = True
            self.schedule()
            return
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
