"""Selecting the region (segmentation on a worker) and shaping the new shape (strokes, transforms,
Reset Shape, Clear Selection). Every change goes to the document as one undo step; the canvas
shows the document's masks. A click's answer is a set of candidates (engine.candidates): the
document shows one, and app/candidate_controller.py steps through them.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, QRectF
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QLabel

from app.brush_options import BrushOptions
from app.canvas import REGION_ALPHA, REGION_COLOUR, TARGET_ALPHA, TARGET_COLOUR, CanvasView, Tool
from app.convert import mask_to_overlay, overlay_to_mask, polygons_to_path
from app.segmenter_slot import SegmenterSlot
from app.settings import Settings
from app.workspace import Workspace
from engine.candidates import CandidateSet
from engine.document import Document, StepKind
from engine.shape_motion import Affine
from engine.errors import SimNetError
from engine.masks import (bounding_box, mask_centroid, outline_polygons, region_affine, soften_stroke, transform_mask,
                          turned_box)
from engine.worker import Worker


def outline_path(mask: np.ndarray) -> QPainterPath:
    return polygons_to_path(outline_polygons(mask))


def _rgba(colour, alpha: int) -> tuple[int, int, int, int]:
    return colour.red(), colour.green(), colour.blue(), alpha


class SelectionController(QObject):
    """Draws the document's masks and turns clicks, boxes, strokes and transforms into its steps.
    Reshaping the new shape is announced with ``workspace.target_reshaped`` (the preview follows)."""

    def __init__(self, workspace: Workspace, canvas: CanvasView, brush: BrushOptions, settings: Settings) -> None:
        super().__init__(workspace)
        self.workspace, self.canvas, self.brush, self.settings = workspace, canvas, brush, settings
        self.worker = Worker("simnet-segment")
        self.segmenter = SegmenterSlot(settings)
        self.segmenter_name = ""
        #: The settings (the slot's key) whose segmenter notice was shown: once per change of the settings.
        self._noticed: str | None = None
        self._pending_prompts: list[tuple] = []  # clicks and boxes the segmenter has not answered yet
        self._generation = 0  # bumped whenever the image under the selection changes
        self.label = QLabel("")
        workspace.masks_replaced.connect(self.show_masks)
        workspace.target_reshaped.connect(lambda after_transform: self.show_target())
        canvas.point_clicked.connect(self.on_point)
        canvas.box_dragged.connect(self.on_box)
        canvas.stroke_finished.connect(self.on_stroke_finished)
        canvas.transform_finished.connect(self.on_transform)
        canvas.transform_missed.connect(self.on_transform_missed)

    # -- showing the document's masks ---------------------------------------------------------------
    def show_region(self) -> None:
        mask = self.workspace.region
        # The region's fill is never painted on: it covers only the region's box (quick on 8K canvases).
        x0, y0, x1, y1 = bounding_box(mask) or (0, 0, 0, 0)
        self.canvas.set_region_overlay(mask_to_overlay(mask[y0:y1, x0:x1], _rgba(REGION_COLOUR, REGION_ALPHA)),
                                       outline_path(mask), QPointF(x0, y0))
        self.workspace.masks_shown.emit()

    def show_target(self) -> None:
        mask = self.workspace.target
        centre = mask_centroid(mask)
        motion = self.workspace.document.shape_motion if self.workspace.document is not None else None
        angle = motion.turned_degrees if motion is not None and centre is not None else 0.0
        box = turned_box(mask, centre, angle) if angle else bounding_box(mask)
        rect = QRectF(box[0], box[1], box[2] - box[0], box[3] - box[1]) if box else None
        self.canvas.set_target_overlay(mask_to_overlay(mask, _rgba(TARGET_COLOUR, TARGET_ALPHA)), outline_path(mask),
                                       QPointF(*centre) if centre else None, rect, angle)
        self.workspace.masks_shown.emit()

    def show_masks(self) -> None:
        self.show_region()
        self.show_target()

    # -- commands ----------------------------------------------------------------------------------
    def forget_prompts(self) -> None:
        """Clicks still being answered were made on another image: drop them."""
        self._pending_prompts = []
        self._generation += 1
        self.worker.cancel_all()

    def drop_selection(self) -> None:
        """Forget the selection without an undo step (a new image, or a move through the history)."""
        self.forget_prompts()
        self.workspace.document.drop_selection()
        self.show_masks()
        self.canvas.set_preview(None)

    def clear_selection(self) -> None:
        document = self.workspace.document
        if document is None:
            return
        document.clear_selection()
        self.forget_prompts()
        self.show_masks()
        self.canvas.set_preview(None)
        self.workspace.actions_changed.emit()
        self.workspace.say("Selection cleared (Ctrl+Z brings it back).")

    def reset_shape(self) -> None:
        if self.workspace.has_region and self.workspace.document.reset_shape():
            self.workspace.target_reshaped.emit(False)

    def on_stroke_finished(self) -> None:
        """The stroke painted on the canvas becomes one undo step; a soft brush (hardness below
        100 %) first smooths the outline of what it changed."""
        document = self.workspace.document
        if document is None:
            return
        before, painted = document.target, overlay_to_mask(self.canvas.target_item.image)
        if self.brush.hardness < 1.0:
            painted = soften_stroke(before, painted, (1.0 - self.brush.hardness) * self.brush.size / 4.0)
        label = "Eraser" if self.canvas.tool is Tool.ERASER else "Brush"
        document.change_target(painted, StepKind.STROKE, label)
        self.workspace.target_reshaped.emit(False)

    def on_transform(self, dx: float, dy: float, scale_x: float, scale_y: float, angle: float, frame: float) -> None:
        document = self.workspace.document
        if document is None or not document.target.any():
            return
        current = document.target
        affine = region_affine(current, dx=dx, dy=dy, scale_x=scale_x, scale_y=scale_y, angle_degrees=angle,
                               frame_degrees=frame)
        moved_by = Affine(tuple(tuple(float(value) for value in row) for row in affine[:2]))
        if document.change_target(transform_mask(current, affine), StepKind.TRANSFORM, "Transform", moved_by):
            self.workspace.target_reshaped.emit(True)
        else:  # a click without a drag: whatever the drag showed is taken down, the masks drawn again
            self.workspace.masks_replaced.emit()

    # -- segmentation ------------------------------------------------------------------------------
    def prepare_segmenter(self, announce: bool = True) -> None:
        """Compute the segmenter's per-image preparation in the background (SAM embedding); with
        ``announce`` its progress and readiness are shown in the status bar."""
        workspace = self.workspace
        if workspace.document is None:
            return
        image = workspace.document.session.current
        progress = workspace.bridge.wrap(lambda fraction, message: announce and workspace.say(
            f"Preparing selection: {message}"))

        def run(token):
            with self.segmenter.lock:
                segmenter = self.segmenter.get()
                segmenter.set_image(image, progress)
                return segmenter.name, self.segmenter.notice, self.segmenter.key

        def ready(found: tuple[str, str, str | None]) -> None:
            name, notice, key = found
            self.segmenter_name = name
            self.label.setText(f"Select: {name.split(' (')[0]}")
            self.label.setToolTip(f"Segmenter: {name} (Edit ▸ Settings picks a SAM checkpoint)"
                                  + (f"\n{notice}" if notice else ""))
            if notice and key != self._noticed:  # said once, not at every painting opened
                self._noticed = key
                workspace.fail("Selection uses another segmenter", notice)
            elif announce:
                workspace.say("Ready — click a region to select it, or drag a box around it.")

        self.worker.submit(run, on_done=workspace.bridge.wrap(ready),
                           on_error=workspace.bridge.wrap(
                               lambda error: workspace.fail("Selection is unavailable", error)),
                           supersede=True)

    def _segment(self, mode: str, point: tuple[float, float] | None = None,
                 box: tuple[float, float, float, float] | None = None) -> None:
        """Ask the segmenter for the part under a click or in a box; ``mode`` "add" joins it to the
        region, "subtract" removes it, "new" replaces the region with it. Clicks made while one is being
        answered are queued, not lost."""
        workspace = self.workspace
        if workspace.document is None:
            return
        self._pending_prompts.append((mode, point, box))
        image, prompts, generation = workspace.document.session.current, list(self._pending_prompts), self._generation

        def run(token):
            answers = []
            with self.segmenter.lock:  # the Restyle tool may use it too
                segmenter = self.segmenter.get()
                segmenter.set_image(image)
                for prompt in prompts:
                    if token.cancelled:
                        break
                    mode_, at, rect = prompt
                    try:
                        prediction = segmenter.predict([at] if at else [], [1] if at else [], rect)
                        answers.append((prompt, CandidateSet.from_prediction(prediction, mode_ != "subtract",
                                                                             box=at is None, point=at)))
                    except SimNetError as error:
                        answers.append((prompt, error))
            return answers

        def done(answers: list) -> None:
            if generation != self._generation or workspace.document is None:
                return
            answered = [prompt for prompt, _ in answers]
            self._pending_prompts = [p for p in self._pending_prompts if all(p is not q for q in answered)]
            document = workspace.document
            region, problems, last = document.region, [], None
            for (mode_, _, _), answer in answers:
                if isinstance(answer, BaseException):
                    problems.append(str(answer))
                elif answer.packed[0].shape == region.shape:
                    # After an Apply the region is the edit's result; a click starts a new selection.
                    fresh = mode_ == "new" or (mode_ == "add" and document.selection_from_edit)
                    last = answer.on(np.zeros_like(region) if fresh else region)
                    region = last.selection(last.default)
                    document.selection_from_edit = False
            if problems:
                workspace.last_error = problems[-1]
            floods = last is not None and last.default is None
            if np.array_equal(region, document.region) and not floods:
                workspace.say(f"Nothing changed: {problems[-1]}" if problems else "The selection did not change.")
                return
            document.select_candidate(last)
            self.show_masks()
            self.canvas.set_preview(None)
            workspace.actions_changed.emit()
            if floods:
                workspace.say(f"Nothing selected: every candidate covers {last.fractions[0] * 100:.0f} % or more "
                                    "of the painting. Tab takes the smallest; or click elsewhere, or drag a box.")
            else:
                workspace.say(f"Region selected ({int(region.sum()):,} px). Tab / Shift+Tab (or Ctrl+wheel): a "
                                    "larger / smaller candidate. Then reshape the red mask (Brush, Transform), Apply.")

        def failed(error: BaseException) -> None:
            self._pending_prompts = []
            workspace.fail("Selection failed", error)

        self.worker.submit(run, on_done=workspace.bridge.wrap(done), on_error=workspace.bridge.wrap(failed))

    def look_closer(self) -> bool:
        """Below the last click's smallest candidate: ask the segmenter, in the background, for finer ones
        (``Segmenter.finer``, a zoomed view of the click) and show the next smaller one found. False when that
        click's candidates cannot look closer (a box, another step since, or looked closer already)."""
        workspace = self.workspace
        document = workspace.document
        choice = document.candidate_choice if document is not None else None
        if choice is None or choice[1] != 0 or not choice[0].may_look_closer:
            return False
        candidates, image, generation = choice[0], document.session.current, self._generation

        def run(token):
            with self.segmenter.lock:
                segmenter = self.segmenter.get()
                segmenter.set_image(image)
                return candidates.looked_closer_with(segmenter)

        def done(extended) -> None:
            current = workspace.document.candidate_choice if workspace.document is document else None
            if generation != self._generation or current is None or current[0] is not candidates or current[1] != 0:
                return  # the user has moved on
            if document.show_finer_candidate(extended):
                workspace.masks_replaced.emit()
                workspace.say("A smaller candidate, found by a closer look, is shown; Ctrl+Z goes back to what "
                              "the click showed.")
            else:
                workspace.say("This is already the smallest candidate.")
            workspace.actions_changed.emit()

        workspace.say("Looking closer for a smaller candidate…")
        self.worker.submit(run, on_done=workspace.bridge.wrap(done),
                           on_error=workspace.bridge.wrap(lambda error: workspace.fail("Selection failed", error)))
        return True

    def _document_at(self, x: float, y: float) -> Document | None:
        """The open document when (``x``, ``y``) lies on its painting; None otherwise (a click beside it)."""
        document = self.workspace.document
        if document is None:
            return None
        height, width = document.session.shape
        return document if 0 <= x < width and 0 <= y < height else None

    def on_point(self, x: float, y: float, positive: bool) -> None:
        """Left click: add the part under the pointer; right or Alt click inside the region: remove it."""
        document = self._document_at(x, y)
        if document is None:
            return
        if not positive and not document.region[int(y), int(x)]:
            self.workspace.say("Right-click (or Alt-click) inside the green region to remove that part of it.")
            return
        self._segment("add" if positive else "subtract", point=(x, y))

    def on_transform_missed(self, x: float, y: float) -> None:
        """The Transform tool's click away from the new shape: a new selection there while nothing is reshaped (after
        an Apply, or before a drag), so that "click elsewhere for a new edit" holds whatever the tool; a reshape not
        applied yet is kept, and the status bar says how to go on."""
        document = self._document_at(x, y)
        if document is None:
            return
        if document.region.any() and document.reshaped:
            self.workspace.say("The new shape is not applied yet: drag it, Apply it (Ctrl+Return), or Reset Shape "
                               "(Ctrl+R) first; the Select tool (S) adds to the selection.")
            return
        self._segment("new", point=(x, y))

    def on_box(self, x0: float, y0: float, x1: float, y1: float) -> None:
        if self.workspace.document is not None:
            self._segment("add", box=(x0, y0, x1, y1))
