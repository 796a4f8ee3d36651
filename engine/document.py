"""The editor's document, without Qt: the session (artwork, image, edit history), the region and
target masks as arrays, and one undo stack that holds every kind of step.

The window only shows a document and sends it commands. Each command is one undo step: a whole
brush stroke, one transform, one selection change, one step through a click's candidates, one mask
tool (Reset Shape, grow, shrink, smooth, fill holes, invert, load), one applied edit.
Mask steps belong to the image they were drawn on, so applying, undoing or redoing an edit forgets
them (its own masks come back with an undone edit, ready to adjust and apply again).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from enum import Enum
from itertools import takewhile
from typing import TYPE_CHECKING, Callable

import numpy as np

from engine.masks import masks_equal
from engine.packed_mask import PackedMask
from engine.session import EditSession, Step, WorkingSelection
from engine.shape_motion import Affine, PinPoints, Pins, ShapeMotion, ShapeMotions

if TYPE_CHECKING:
    from engine.candidates import CandidateSet

#: Mask steps kept for undo (bit-packed and compressed: a 4K mask takes a few kB).
MASK_STEP_LIMIT = 200


class StepKind(Enum):
    EDIT = "edit"
    STROKE = "stroke"
    TRANSFORM = "transform"
    WARP = "warp"
    SELECTION = "selection"
    CANDIDATE = "candidate"
    MASK_TOOL = "mask tool"


@dataclass(frozen=True)
class UndoStep:
    """One step of the undo stack. An EDIT step's image lives in the session's history; a mask step
    holds the region and target before and after it. A click's SELECTION step and the CANDIDATE
    step after it also hold the click's candidates and the index shown (None: none)."""

    kind: StepKind
    label: str
    region_before: PackedMask | None = None
    target_before: PackedMask | None = None
    region_after: PackedMask | None = None
    target_after: PackedMask | None = None
    candidates: "CandidateSet | None" = None
    candidate: int | None = None
    #: The Warp tool's pins before and after the step (undoing a drag puts them back where they were).
    pins_before: PinPoints = ()
    pins_after: PinPoints = ()


@dataclass(frozen=True)
class Change:
    """What an undo, redo or history move changed, for the view to redraw."""

    kind: StepKind
    image: bool
    masks: bool
    #: Where the image changed (x0, y0, x1, y1) when one edit was undone or redone; None otherwise.
    box: tuple[int, int, int, int] | None = None


class Document:
    """A session being edited: its image history, the selection and one undo stack."""

    def __init__(self, session: EditSession) -> None:
        self.session = session
        empty = np.zeros(session.shape, bool)
        self.region = empty
        self.target = empty.copy()
        #: The selection is the result of an Apply or an undone edit: a new click starts a new one.
        self.selection_from_edit = False
        #: How each new shape made by Transform and Warp came from its region (edits bent by pins follow them).
        self.shape_motions = ShapeMotions()
        #: The Warp tool's pins on the new shape (any other change of the shape takes them away; undo gives them back).
        self.pins: PinPoints = ()
        self._done: list[UndoStep] = []
        self._undone: list[UndoStep] = []
        self._lent: list[np.ndarray] = []  # images being read on other threads (see lend_image)
        #: Bumped whenever the image changes (an edit applied, undone or redone, a move through the
        #: history): work prepared from an older image (the live plate) is recognised as stale.
        self.image_version = 0
        self._edits_only(self.session.position, len(self.session.steps) - self.session.position)
        saved = session.selection
        if saved is not None and saved.region.shape == session.shape and saved.target.shape == session.shape:
            self.region, self.target, self.selection_from_edit = saved.region, saved.target, saved.from_edit
            self.pins = saved.pins
            if saved.motion is not None:
                self.shape_motions.remember(saved.region, saved.target, saved.motion)
        session.selection = None  # the document holds it now (and saves it anew with each snapshot)
        #: The masks as last saved or opened: a reshape not saved yet is unsaved work.
        self._saved_masks = (self.region, self.target)

    # -- the image, read on other threads -----------------------------------------------------------
    def lend_image(self) -> np.ndarray:
        """The current image, for a worker to read while the editor goes on (export, autosave,
        preview), without copying it now: undo and redo change the image in place, so they copy it
        first while it is lent. Give it back with :meth:`return_image` when the worker is done."""
        self._lent.append(self.session.current)
        return self.session.current

    def return_image(self, image: np.ndarray) -> None:
        self._lent = [lent for lent in self._lent if lent is not image]

    def _own_image(self) -> None:
        """Before an in-place change of the image: copy it if a worker still reads it."""
        if any(lent is self.session.current for lent in self._lent):
            self.session.current = self.session.current.copy()

    def snapshot(self) -> EditSession:
        """A copy of the session to save on another thread (steps are shared: they never change), with
        the selection being worked on and the current image lent (give it back with :meth:`return_image`)."""
        saved = copy.copy(self.session)
        saved.steps = list(self.session.steps)
        saved.current = self.lend_image()
        saved.selection = self.working_selection()
        return saved

    def working_selection(self) -> WorkingSelection | None:
        """The region and new shape as they are now, with the moves that made the shape; None without one."""
        if not self.region.any() and not self.target.any():
            return None
        return WorkingSelection(self.region, self.target, self.shape_motion, self.selection_from_edit, self.pins)

    def saved(self, snapshot: EditSession) -> None:
        """``snapshot`` (from :meth:`snapshot`) was saved where the user asked: nothing is unsaved now but what
        changed since it was taken."""
        same_steps = len(self.session.steps) == len(snapshot.steps) and all(
            step is saved for step, saved in zip(self.session.steps, snapshot.steps))
        if same_steps and self.session.position == snapshot.position:
            self.session.dirty = False
        selection = snapshot.selection
        self._saved_masks = (selection.region, selection.target) if selection is not None else (None, None)

    @property
    def has_unsaved_work(self) -> bool:
        """Edits not saved, or a new shape (a reshape not applied yet) that differs from the one saved. A
        selection alone is not work to ask about: a click gives it back."""
        if self.session.dirty:
            return True
        if not self.reshaped:
            return False
        region, target = self._saved_masks
        same = lambda mask, saved: mask is saved or (saved is not None and masks_equal(mask, saved))  # noqa: E731
        return not (same(self.region, region) and same(self.target, target))

    # -- the undo stack ----------------------------------------------------------------------------
    def _edits_only(self, done: int, undone: int) -> None:
        self._done = [UndoStep(StepKind.EDIT, "Reshape")] * done
        self._undone = [UndoStep(StepKind.EDIT, "Reshape")] * undone

    def _forget_mask_steps(self) -> None:
        self._done = [step for step in self._done if step.kind is StepKind.EDIT]
        self._undone = [step for step in self._undone if step.kind is StepKind.EDIT]

    @property
    def can_undo(self) -> bool:
        return bool(self._done)

    @property
    def can_redo(self) -> bool:
        return bool(self._undone)

    @property
    def undo_kinds(self) -> list[StepKind]:
        return [step.kind for step in self._done]

    @property
    def redo_kinds(self) -> list[StepKind]:
        return [step.kind for step in reversed(self._undone)]

    @property
    def undo_label(self) -> str:
        return self._done[-1].label if self._done else ""

    @property
    def redo_label(self) -> str:
        return self._undone[-1].label if self._undone else ""

    @property
    def mask_step_labels(self) -> tuple[list[str], list[str]]:
        """The labels of the mask steps on the current image: those done since the last edit (oldest
        first) and those Redo brings back before the next edit (next first)."""
        def on_this_image(steps: list[UndoStep]) -> list[str]:
            return [step.label for step in takewhile(lambda step: step.kind is not StepKind.EDIT, reversed(steps))]

        return on_this_image(self._done)[::-1], on_this_image(self._undone)

    def _record(self, kind: StepKind, label: str, region: np.ndarray, target: np.ndarray,
                candidates: "CandidateSet | None" = None, candidate: int | None = None, pins: PinPoints = ()) -> None:
        """Make the masks ``region`` and ``target`` (and the Warp tool's ``pins``) current, as one undoable step."""
        step = UndoStep(kind, label, PackedMask.pack(self.region), PackedMask.pack(self.target),
                        PackedMask.pack(region), PackedMask.pack(target), candidates, candidate, self.pins, tuple(pins))
        self._done.append(step)
        masks = [index for index, done in enumerate(self._done) if done.kind is not StepKind.EDIT]
        for index in reversed(masks[:-MASK_STEP_LIMIT]):
            del self._done[index]
        self._undone.clear()
        self.region, self.target, self.pins = region, target, tuple(pins)

    # -- commands ----------------------------------------------------------------------------------
    def select(self, region: np.ndarray) -> None:
        """A new selection: ``region`` is selected and the new shape starts as a copy of it."""
        self._record(StepKind.SELECTION, "Select", region, region.copy())
        self.selection_from_edit = False

    def select_candidate(self, candidates: "CandidateSet", label: str = "Select") -> None:
        """A click's answer: its default candidate is selected (nothing when every candidate floods
        the painting) and the candidates stay steppable (:meth:`step_candidate`) until the next step."""
        region = candidates.selection(candidates.default)
        self._record(StepKind.SELECTION, label, region, region.copy(), candidates, candidates.default)
        self.selection_from_edit = False

    @property
    def candidate_choice(self) -> "tuple[CandidateSet, int | None] | None":
        """The last click's candidates and the one shown, while that click (or a step through its
        candidates) is the last step; None otherwise."""
        top = self._done[-1] if self._done else None
        return (top.candidates, top.candidate) if top is not None and top.candidates is not None else None

    def step_candidate(self, steps: int) -> bool:
        """Show the candidate ``steps`` larger (negative: smaller) than the one shown, as one undo
        step; further steps replace it, so one undo goes back to what the click showed. False when
        there is no candidate to step to."""
        choice = self.candidate_choice
        if choice is None:
            return False
        candidates, shown = choice
        return self._show_candidate(candidates, candidates.stepped(shown, steps))

    def show_finer_candidate(self, candidates: "CandidateSet") -> bool:
        """The last click's candidates given finer ones (``candidates``: the same set after
        ``CandidateSet.with_finer``): the next smaller candidate is shown, as a step through the candidates
        (:meth:`step_candidate`). When nothing finer was found the set is only remembered as looked closer
        (no undo step) and False is returned."""
        choice = self.candidate_choice
        if choice is None or choice[1] is None:
            return False
        before, shown = choice
        added = len(candidates) - len(before)
        if added <= 0:
            top = self._done[-1]
            self._done[-1] = replace(top, candidates=candidates)
            return False
        return self._show_candidate(candidates, shown + added - 1)

    def _show_candidate(self, candidates: "CandidateSet", index: int | None) -> bool:
        """Candidate ``index`` of the last click's ``candidates`` shown, as one undo step with any step through
        the candidates just before it; False when it is the one shown."""
        top = self._done[-1]
        if candidates is top.candidates and index == top.candidate:
            return False
        if top.kind is StepKind.CANDIDATE:
            replaced = self._done.pop()
            self.region, self.target = replaced.region_before.unpack(), replaced.target_before.unpack()
            self.pins = replaced.pins_before
            click = self._done[-1]
            if index is not None and click.candidate is not None and \
                    candidates.packed[index] is click.candidates.packed[click.candidate]:
                self._undone.clear()  # back to what the click showed
                return True
        region = candidates.selection(index)
        self._record(StepKind.CANDIDATE, f"Candidate {index + 1}/{len(candidates)}", region, region.copy(),
                     candidates, index)
        return True

    def clear_selection(self) -> bool:
        """Forget the region and the new shape, as an undoable step; False when there was none."""
        if not self.region.any() and not self.target.any():
            return False
        empty = np.zeros(self.session.shape, bool)
        self._record(StepKind.SELECTION, "Clear Selection", empty, empty.copy())
        self.selection_from_edit = False
        return True

    def change_target(self, target: np.ndarray, kind: StepKind, label: str = "",
                      moved_by: Affine | Pins | None = None) -> bool:
        """A new shape from a stroke, a transform, a warp or a mask tool; False when it did not change.
        ``moved_by``: the Transform's affine or the Warp's pins that made it from the shape before
        (:attr:`shape_motion`). A Warp's pins stay on the shape where they were dragged to; any other change
        takes them away."""
        if kind in (StepKind.EDIT, StepKind.SELECTION):
            raise ValueError(f"a {kind.value} step does not change the new shape alone")
        if masks_equal(target, self.target):
            return False
        if moved_by is not None:
            self.shape_motions.moved(self.region, self.target, target, moved_by)
        pins = moved_by.after if isinstance(moved_by, Pins) else ()
        self._record(kind, label or kind.value.capitalize(), self.region, target, pins=pins)
        return True

    def place_pins(self, pins: PinPoints) -> None:
        """The Warp tool's pins placed or taken away on the new shape as it is (no undo step: a drag is one)."""
        self.pins = tuple((float(x), float(y)) for x, y in pins)

    @property
    def shape_motion(self) -> ShapeMotion | None:
        """How the new shape came from the region by Transform and Warp moves; None when something else
        (a stroke, a mask tool) made it."""
        return self.shape_motions.of(self.region, self.target)

    def reset_shape(self) -> bool:
        """The new shape back to the region (Reset Shape)."""
        return self.change_target(self.region.copy(), StepKind.MASK_TOOL, "Reset Shape")

    @property
    def reshaped(self) -> bool:
        """The new shape differs from the region: a reshape waits to be applied."""
        return not masks_equal(self.region, self.target)

    @property
    def mask_tools_act_on_region(self) -> bool:
        """The mask tools change the region (and the new shape with it) while the new shape is still
        the region, as after a click; once it is reshaped they change the new shape alone, like the
        brush and the transform."""
        return not self.reshaped

    def apply_mask_tool(self, tool: Callable[[np.ndarray], np.ndarray], label: str) -> bool:
        """``tool`` (mask in, mask out) applied to the mask the tools act on, as one undo step;
        False when it changed nothing."""
        if not self.mask_tools_act_on_region:
            return self.change_target(tool(self.target), StepKind.MASK_TOOL, label)
        region = tool(self.region)
        if masks_equal(region, self.region):
            return False
        self._record(StepKind.MASK_TOOL, label, region, region.copy())
        self.selection_from_edit = False  # the selection was worked on: clicks add to it
        return True

    def show_masks(self, region: np.ndarray, target: np.ndarray) -> None:
        """Set the masks without an undo step (a selection restored from elsewhere)."""
        self.region, self.target, self.pins = region, target, ()

    def drop_selection(self) -> None:
        """Forget the selection without an undo step (a new image under it)."""
        empty = np.zeros(self.session.shape, bool)
        self.region, self.target, self.pins = empty, empty.copy(), ()
        self.selection_from_edit = False

    def apply(self, step: Step, result: np.ndarray, warped_mask: np.ndarray) -> None:
        """An edit made from the current image: ``result`` becomes the image, and the reshaped
        region (``warped_mask``) is selected, ready to be reshaped again."""
        self.session.push_step(step, result)
        self.image_version += 1
        self._forget_mask_steps()
        self._done.append(UndoStep(StepKind.EDIT, step.label))
        self._undone = []
        self.region, self.target, self.pins = warped_mask, warped_mask.copy(), ()
        self.selection_from_edit = True

    def undo(self) -> Change | None:
        if not self._done:
            return None
        step = self._done.pop()
        if step.kind is StepKind.EDIT:
            self._own_image()
            self.session.undo()
            self.image_version += 1
            self._forget_mask_steps()
            self._undone.append(step)
            # Back to the image before the edit, with the masks that made it: adjust and apply again.
            self.region, self.target = self.session.step_masks(self.session.position)
            self.pins = ()
            self.selection_from_edit = True
            return Change(step.kind, image=True, masks=True, box=self.session.steps[self.session.position].box)
        self._undone.append(step)
        self.region, self.target, self.pins = step.region_before.unpack(), step.target_before.unpack(), step.pins_before
        return Change(step.kind, image=False, masks=True)

    def redo(self) -> Change | None:
        if not self._undone:
            return None
        step = self._undone.pop()
        if step.kind is StepKind.EDIT:
            self._own_image()
            self.session.redo()
            self.image_version += 1
            self._forget_mask_steps()
            self._done.append(step)
            self.drop_selection()
            return Change(step.kind, image=True, masks=True, box=self.session.steps[self.session.position - 1].box)
        self._done.append(step)
        self.region, self.target, self.pins = step.region_after.unpack(), step.target_after.unpack(), step.pins_after
        return Change(step.kind, image=False, masks=True)

    def go_to(self, position: int) -> Change:
        """The image after ``position`` edits (0: the original); later edits stay redoable."""
        self._own_image()
        self.session.go_to(position)
        self.image_version += 1
        self._edits_only(position, len(self.session.steps) - position)
        self.drop_selection()
        return Change(StepKind.EDIT, image=True, masks=True)
