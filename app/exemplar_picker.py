"""Where the Restyle tool's exemplar region comes from: a click or a box on the painting (the canvas's
exemplar tool, answered by the selection's segmenter, whose embedding of the painting is there already),
the selection, another painting opened in the panel (clicked or boxed there, answered by a segmenter of
this tool's own), or an image and its mask file. Every read and copy of a large image and every
segmentation runs on the tool's worker; the exemplar found is handed to ``take`` on the GUI thread.

Undo and redo change the document's image in place, so an exemplar from the painting is a copy of it,
made on the worker from the image lent to it, and kept once per image version.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QWidget

from app.canvas import CanvasView, Tool
from app.file_filters import IMAGE_FILTER
from app.restyle_panel import RestylePanel
from app.segmenter_slot import SegmenterSlot
from app.settings import Settings
from app.workspace import Workspace
from engine.candidates import CandidateSet
from engine.document import Document
from engine.errors import SimNetError
from engine.imageio import load_image, load_mask
from engine.worker import Worker

#: The file dialogs' filter for an exemplar image.
#: ``take(image, region, description, on_canvas, again)``: an exemplar region of an image was found (``again``: in
#: place of the one the last click took, another of that click's candidates).
Take = Callable[..., None]
#: ``found(mask, image, again)``: what a click or a box found, to take as the exemplar.
Found = Callable[[np.ndarray, np.ndarray, bool], None]


@dataclass
class ExemplarPick:
    """The candidates of the last click (or box) that took the exemplar, the one taken, the image it was made
    on, and how to take another of them (Smaller / Larger in the panel)."""

    candidates: CandidateSet
    index: int
    image: np.ndarray
    found: Found
    #: The selection's last click when this one was made (its candidates, or None): while it still is, this
    #: click is the last one, and Tab steps it.
    after: CandidateSet | None = None
    #: The segmenter that answered it (asked again to look closer below its smallest candidate).
    slot: SegmenterSlot | None = None


class ExemplarPicker(QObject):
    def __init__(self, workspace: Workspace, canvas: CanvasView, panel: RestylePanel, worker: Worker,
                 settings: Settings, dialog_parent: QWidget, take: Take, say: Callable[[str], None],
                 image_shown: Callable[[], None], painting_segmenter: SegmenterSlot | None = None) -> None:
        """``painting_segmenter``: the selection's segmenter, to pick on the painting with; another image is
        segmented by a segmenter of this picker's own. ``image_shown``: another painting is shown in the panel."""
        super().__init__(dialog_parent)
        self.workspace, self.canvas, self.panel, self.worker = workspace, canvas, panel, worker
        self.dialog_parent, self.take, self.say, self.image_shown = dialog_parent, take, say, image_shown
        self.settings = settings
        self.segmenter = SegmenterSlot(settings)
        self.painting_segmenter = painting_segmenter or self.segmenter
        self.other_image: np.ndarray | None = None
        self.other_name = ""
        #: A copy of the painting on the canvas, kept while its image version holds (see _painting_source).
        self._painting: tuple[Document, int, np.ndarray] | None = None
        self._tool_before_pick: Tool | None = None
        #: The last click's candidates, while its exemplar is the one taken last (None otherwise).
        self.last_pick: ExemplarPick | None = None
        self.stop_picking_action = QAction("Stop Picking the Exemplar", dialog_parent, enabled=False)
        self.stop_picking_action.setShortcut(QKeySequence(Qt.Key_Escape))
        self.stop_picking_action.triggered.connect(lambda: panel.pick_button.setChecked(False))
        dialog_parent.addAction(self.stop_picking_action)
        canvas.exemplar_clicked.connect(lambda x, y: self.pick_on_painting(point=(x, y)))
        canvas.exemplar_boxed.connect(lambda *box: self.pick_on_painting(box=box))
        canvas.tool_changed.connect(self.tool_changed)

    def painting_replaced(self) -> None:
        """Another painting (or session) was opened: no more picking, no copy of the one before."""
        self.panel.pick_button.setChecked(False)
        self._painting = None
        self.forget_pick()

    def use_selection_as_exemplar(self) -> None:
        document = self.workspace.document
        if document is None or not document.region.any():
            self.say("Select the exemplar region first (click it, or drag a box).")
            return
        source, finished = self._painting_source(document)
        region, version = document.region.copy(), document.image_version

        def done(image: np.ndarray) -> None:
            finished()
            self.forget_pick()
            if self._take_from_painting(document, version, image, region, "take"):
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

    def pick_toggled(self, on: bool) -> None:
        canvas = self.canvas
        self.stop_picking_action.setEnabled(on)
        if on and canvas.tool is not Tool.EXEMPLAR:
            self._tool_before_pick = canvas.tool
            canvas.set_tool(Tool.EXEMPLAR)
            self.say("Click the exemplar region on the painting, or drag a box around it (the selection stays; "
                     "Esc stops picking).")
        elif not on and canvas.tool is Tool.EXEMPLAR:
            canvas.set_tool(self._tool_before_pick or Tool.SELECT)

    def tool_changed(self, tool: Tool) -> None:
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

        def found(mask: np.ndarray, image: np.ndarray, again: bool) -> None:
            if self._take_from_painting(document, version, image, mask, "pick", again):
                self.say("Exemplar taken; restyling the selection…" if document.region.any()
                         else "Exemplar taken. Now select the region to restyle.")

        self._segment(self.painting_segmenter, painting, point, box, found, finished)

    def _take_from_painting(self, document: Document, version: int, image: np.ndarray, region: np.ndarray,
                            verb: str, again: bool = False) -> bool:
        """Take ``region`` of ``image`` (the painting's copy at ``version``) as the exemplar, unless another
        painting was opened or this one edited since the copy was asked for (then say so and take nothing)."""
        if self.workspace.document is not document or document.image_version != version:
            self.say(f"The painting changed meanwhile; {verb} the exemplar again.")
            return False
        self._painting = (document, version, image)
        self.take(image, region, "a region of this painting", on_canvas=True, again=again)
        return True

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

    def _ask_exemplar_image(self) -> str:
        """An image file the artist picks, starting in the last folder (which it then becomes); "" when cancelled."""
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Exemplar image", self.settings.last_folder,
                                              IMAGE_FILTER)
        if path:
            self.settings.last_folder = str(Path(path).parent)
        return path

    def choose_exemplar_image(self) -> None:
        path = self._ask_exemplar_image()
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
            self.image_shown()  # the panel makes room for the image's view
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

        def found(mask: np.ndarray, _: np.ndarray, again: bool) -> None:
            if image is not self.other_image:
                return
            self.panel.exemplar_view.show_region(mask)
            self.take(image, mask, f"a region of {self.other_name}", again=again)

        self._segment(self.segmenter, lambda: image, point, box, found)

    def _segment(self, slot: SegmenterSlot, source: Callable[[], np.ndarray], point: tuple[float, float] | None,
                 box: tuple[float, float, float, float] | None, found: Found,
                 finished: Callable[[], None] = lambda: None) -> None:
        """Ask ``slot``'s segmenter (on this tool's worker) for the region a click or a box on the image ``source``
        gives (called on the worker) means, as a selection would take it (its first candidate). ``found`` gets a
        non-empty answer and that image on the GUI thread; ``finished`` is called there in any case first. The
        click's other candidates stay at hand (:meth:`step`)."""

        def run(token) -> tuple[CandidateSet, int, np.ndarray]:
            image = source()
            with slot.lock:
                segmenter = slot.get()
                segmenter.set_image(image)  # at once when it holds this image's embedding already
                prediction = segmenter.predict(points=[point] if point else [], labels=[1] if point else [],
                                               box=box)
            candidates = CandidateSet.from_prediction(prediction, box=box is not None, point=point)
            if candidates.default is not None:
                return candidates, candidates.default, image
            # every candidate covers most of the image: the segmenter's own answer, as a selection steps up to
            best = next((index for index in range(len(candidates))
                         if np.array_equal(candidates.mask(index), prediction.best)), len(candidates) - 1)
            return candidates, best, image

        def done(answer: tuple[CandidateSet, int, np.ndarray]) -> None:
            finished()
            candidates, index, image = answer
            mask = candidates.mask(index)
            if not mask.any():
                self.say("Nothing found there; click another place or drag a box.")
                return
            self.last_pick = ExemplarPick(candidates, index, image, found, self._selection_click(), slot)
            self._show_pick()
            found(mask, image, False)

        def failed(error: BaseException) -> None:
            finished()
            self.say(f"Segmentation failed: {error}")

        self.say("Finding the exemplar region…")
        bridge = self.workspace.bridge
        self.worker.submit(run, on_done=bridge.wrap(done), on_error=bridge.wrap(failed),
                           on_cancelled=bridge.wrap(finished), supersede=False)

    def step(self, steps: int) -> None:
        """Take the candidate of the last click ``steps`` larger (negative: smaller) than the exemplar taken, in
        its place (Smaller / Larger in the panel, or Tab / Shift+Tab while this click is the last one: the click's
        part, object and larger region)."""
        pick = self.last_pick
        if pick is None:
            self.say("No exemplar click to step through: pick the exemplar on a painting first.")
            return
        index = pick.candidates.stepped(pick.index, steps)
        if steps < 0 and index == pick.index == 0 and self._looks_closer(pick):
            return
        if index is None or index == pick.index:
            self.say("This is already the " + ("largest" if steps > 0 else "smallest") + " candidate.")
            return
        pick.index = index
        self._show_pick()
        pick.found(pick.candidates.mask(index), pick.image, True)

    def _looks_closer(self, pick: ExemplarPick) -> bool:
        """Below the smallest candidate of the exemplar's click: ask its segmenter, on this tool's worker, for finer
        ones (as a selection click does) and take the next smaller one found. False when the click cannot."""
        if pick.slot is None or not pick.candidates.may_look_closer:
            return False
        candidates, slot = pick.candidates, pick.slot

        def run(token) -> CandidateSet:
            with slot.lock:
                segmenter = slot.get()
                segmenter.set_image(pick.image)
                return candidates.looked_closer_with(segmenter)

        def done(extended: CandidateSet) -> None:
            if self.last_pick is not pick or pick.candidates is not candidates or pick.index != 0:
                return  # another exemplar was taken, or another candidate, meanwhile
            added = len(extended) - len(candidates)
            pick.candidates = extended
            if added:
                pick.index = added - 1
                pick.found(extended.mask(pick.index), pick.image, True)
            self._show_pick()
            self.say("A smaller candidate, found by a closer look, is the exemplar." if added else
                     "This is already the smallest candidate.")

        self.say("Looking closer for a smaller candidate…")
        bridge = self.workspace.bridge
        self.worker.submit(run, on_done=bridge.wrap(done), supersede=False,
                           on_error=bridge.wrap(lambda error: self.say(f"Segmentation failed: {error}")))
        return True

    def _selection_click(self) -> CandidateSet | None:
        document = self.workspace.document
        choice = document.candidate_choice if document is not None else None
        return choice[0] if choice is not None else None

    # -- OtherClick (app.candidate_controller): Tab steps the exemplar's click while it is the last click
    def is_last_click(self) -> bool:
        pick = self.last_pick
        return pick is not None and self.workspace.document is not None and self._selection_click() is pick.after

    def can_step(self, steps: int) -> bool:
        pick = self.last_pick
        if pick is None:
            return False
        if steps < 0 and pick.index == 0 and pick.slot is not None and pick.candidates.may_look_closer:
            return True  # a closer look
        return pick.candidates.stepped(pick.index, steps) not in (None, pick.index)

    def describe(self) -> str:
        pick = self.last_pick
        return f"exemplar: {pick.candidates.describe(pick.index)}" if pick is not None else ""

    def forget_pick(self) -> None:
        """The exemplar no longer comes from the last click (taken otherwise, or removed)."""
        self.last_pick = None
        self._show_pick()

    def _show_pick(self) -> None:
        pick = self.last_pick
        many = pick is not None and len(pick.candidates) > 1
        self.panel.show_exemplar_candidate(pick.candidates.describe(pick.index) if many else None,
                                           smaller=self.can_step(-1), larger=self.can_step(1))
        self.workspace.actions_changed.emit()  # Tab now steps this click's candidates, or the selection's again

    def choose_exemplar_files(self) -> None:
        image_path = self._ask_exemplar_image()
        if not image_path:
            return
        mask_path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "The exemplar's region mask (white = region)",
                                                   str(Path(image_path).parent), IMAGE_FILTER)
        if mask_path:
            self.load_exemplar(image_path, mask_path)

    def load_exemplar(self, image_path: str | Path, mask_path: str | Path) -> None:
        """Take an image and its region mask from files as the exemplar, read on this tool's worker (an 8K image
        decodes for a second). A file that cannot be read, a mask of another size or an empty one is said so
        and the exemplar stays as it was."""
        name = Path(image_path).name

        def run(token) -> tuple[np.ndarray, np.ndarray]:
            image = load_image(image_path).pixels
            region = load_mask(mask_path, image.shape[:2])
            if not region.any():
                raise SimNetError(f"the mask {mask_path} is empty")
            return image, region

        self.say(f"Opening {name}…")
        bridge = self.workspace.bridge
        def done(answer: tuple[np.ndarray, np.ndarray]) -> None:
            self.forget_pick()
            self.take(*answer, name)

        self.worker.submit(run, on_done=bridge.wrap(done), supersede=False,
                           on_error=bridge.wrap(lambda error: self.say(f"Exemplar not loaded: {error}")))
