"""engine.document without Qt: one undo stack for every kind of step, masks as arrays."""
from __future__ import annotations

import numpy as np
import pytest

from engine.candidates import CandidateSet
from engine.document import MASK_STEP_LIMIT, Document, PackedMask, StepKind
from engine.imageio import Artwork
from engine.mask_tools import fill_holes, grow, invert, shrink, smooth
from engine.segmentation.base import MaskPrediction
from engine.session import EditSession, make_step

H, W = 40, 60


def disc(cx: float, cy: float, radius: float) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W]
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2


def document() -> Document:
    rng = np.random.default_rng(1)
    return Document(EditSession(Artwork(rng.integers(0, 256, (H, W, 3), dtype=np.uint8))))


def apply_edit(doc: Document, source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """An edit's result as the Manipulator would give it: the region's pixels changed."""
    result = doc.session.current.copy()
    result[source | target] = 255 - result[source | target]
    doc.apply(make_step(doc.session.current, result, source, target, "Reshape"), result, target.copy())
    return result


def test_packed_masks_round_trip() -> None:
    mask = disc(20, 20, 9)
    packed = PackedMask.pack(mask)
    assert len(packed.data) < mask.size / 8
    np.testing.assert_array_equal(packed.unpack(), mask)


def test_every_kind_of_step_is_one_undo_step() -> None:
    doc = document()
    region = disc(20, 20, 6)
    doc.select(region)
    np.testing.assert_array_equal(doc.target, region)
    stroked = region | disc(28, 20, 4)
    assert doc.change_target(stroked, StepKind.STROKE)
    moved = np.roll(stroked, 5, axis=1)
    assert doc.change_target(moved, StepKind.TRANSFORM)
    assert doc.reset_shape()
    assert not doc.change_target(doc.target.copy(), StepKind.STROKE)  # no change, no step
    assert doc.undo_kinds == [StepKind.SELECTION, StepKind.STROKE, StepKind.TRANSFORM, StepKind.MASK_TOOL]
    # Undo walks back through each state, redo forward again.
    states = [(region, moved), (region, stroked), (region, region), (np.zeros_like(region),) * 2]
    for expected_region, expected_target in states:
        change = doc.undo()
        assert change is not None and not change.image and change.masks
        np.testing.assert_array_equal(doc.region, expected_region)
        np.testing.assert_array_equal(doc.target, expected_target)
    assert doc.undo() is None and not doc.can_undo
    assert doc.redo_kinds == [StepKind.SELECTION, StepKind.STROKE, StepKind.TRANSFORM, StepKind.MASK_TOOL]
    for expected_target in (region, stroked, moved, region):
        doc.redo()
        np.testing.assert_array_equal(doc.target, expected_target)
    assert not doc.can_redo


def test_a_new_step_drops_the_redo_steps() -> None:
    doc = document()
    doc.select(disc(20, 20, 6))
    doc.change_target(disc(25, 20, 6), StepKind.TRANSFORM)
    doc.undo()
    assert doc.can_redo
    doc.change_target(disc(20, 25, 6), StepKind.STROKE)
    assert not doc.can_redo
    assert doc.undo_kinds == [StepKind.SELECTION, StepKind.STROKE]


def test_clear_selection_is_undoable() -> None:
    doc = document()
    assert not doc.clear_selection()  # nothing selected: no step
    doc.select(disc(20, 20, 6))
    assert doc.clear_selection()
    assert not doc.region.any() and not doc.target.any()
    doc.undo()
    np.testing.assert_array_equal(doc.region, disc(20, 20, 6))


def test_an_edit_is_a_step_and_its_masks_come_back_when_it_is_undone() -> None:
    doc = document()
    original = doc.session.current.copy()
    source, target = disc(20, 20, 6), disc(30, 20, 7)
    doc.select(source)
    doc.change_target(target, StepKind.TRANSFORM)
    result = apply_edit(doc, source, target)
    np.testing.assert_array_equal(doc.session.current, result)
    np.testing.assert_array_equal(doc.region, target)  # the reshaped region stays selected
    assert doc.selection_from_edit
    # Mask steps belong to the image they were drawn on: after the edit only the edit is undoable.
    assert doc.undo_kinds == [StepKind.EDIT]
    change = doc.undo()
    assert change.kind is StepKind.EDIT and change.image
    np.testing.assert_array_equal(doc.session.current, original)
    np.testing.assert_array_equal(doc.region, source)
    np.testing.assert_array_equal(doc.target, target)
    assert not doc.can_undo and doc.redo_kinds == [StepKind.EDIT]
    doc.redo()
    np.testing.assert_array_equal(doc.session.current, result)
    assert not doc.region.any()


def test_strokes_after_an_undone_edit_keep_the_edit_redoable_until_a_new_one() -> None:
    doc = document()
    source, target = disc(20, 20, 6), disc(30, 20, 7)
    doc.select(source)
    first = apply_edit(doc, source, target)
    doc.undo()
    doc.change_target(disc(32, 22, 7), StepKind.STROKE)
    assert doc.undo_kinds == [StepKind.STROKE] and not doc.can_redo
    assert len(doc.session.steps) == 1  # still in the history panel, until a new edit replaces it
    doc.undo()
    np.testing.assert_array_equal(doc.target, target)
    second = apply_edit(doc, source, disc(32, 22, 7))
    assert len(doc.session.steps) == 1 and not np.array_equal(first, second)


def test_go_to_moves_through_the_edits() -> None:
    doc = document()
    original = doc.session.current.copy()
    source = disc(20, 20, 6)
    results = []
    for step in range(3):
        target = np.roll(source, 3 * (step + 1), axis=1)
        doc.select(source)
        results.append(apply_edit(doc, source, target))
    change = doc.go_to(1)
    assert change.image
    np.testing.assert_array_equal(doc.session.current, results[0])
    assert doc.undo_kinds == [StepKind.EDIT] and doc.redo_kinds == [StepKind.EDIT] * 2
    assert not doc.region.any()
    doc.go_to(0)
    np.testing.assert_array_equal(doc.session.current, original)
    doc.redo()
    doc.redo()
    doc.redo()
    np.testing.assert_array_equal(doc.session.current, results[2])


def test_a_reopened_session_can_undo_its_edits() -> None:
    doc = document()
    apply_edit(doc, disc(20, 20, 6), disc(26, 20, 6))
    apply_edit(doc, disc(26, 20, 6), disc(30, 20, 6))
    doc.session.go_to(1)
    reopened = Document(doc.session)
    assert reopened.undo_kinds == [StepKind.EDIT] and reopened.redo_kinds == [StepKind.EDIT]


def test_old_mask_steps_are_dropped_beyond_the_limit() -> None:
    doc = document()
    doc.select(disc(20, 20, 6))
    for step in range(MASK_STEP_LIMIT + 10):
        doc.change_target(disc(20 + step % 7, 20, 6 + step % 3), StepKind.STROKE)
    assert len(doc.undo_kinds) == MASK_STEP_LIMIT


def test_edit_and_selection_are_not_target_changes() -> None:
    doc = document()
    with pytest.raises(ValueError):
        doc.change_target(disc(20, 20, 6), StepKind.SELECTION)


def test_a_lent_image_is_never_changed_under_its_reader() -> None:
    doc = document()
    source, target = disc(20, 20, 6), disc(30, 20, 7)
    result = apply_edit(doc, source, target)
    lent = doc.lend_image()
    assert lent is doc.session.current  # no copy when it is lent
    doc.undo()  # undo changes the image in place: it copies first
    np.testing.assert_array_equal(lent, result)
    assert doc.session.current is not lent and not np.array_equal(doc.session.current, result)
    doc.return_image(lent)
    current = doc.session.current
    doc.redo()  # nothing lent: in place, no copy
    assert doc.session.current is current
    np.testing.assert_array_equal(doc.session.current, result)


def test_a_snapshot_shares_the_steps_and_lends_the_image() -> None:
    doc = document()
    apply_edit(doc, disc(20, 20, 6), disc(30, 20, 7))
    saved = doc.snapshot()
    assert saved.current is doc.session.current and saved.steps == doc.session.steps
    assert saved.steps is not doc.session.steps and saved.position == doc.session.position
    doc.go_to(0)
    assert saved.position == 1 and not np.array_equal(saved.current, doc.session.current)
    doc.return_image(saved.current)


# -- a click's candidates ---------------------------------------------------------------------------
def click_candidates(base: np.ndarray, fractions_floods: bool = False) -> CandidateSet:
    """Three nested discs around (30, 20); with ``fractions_floods`` only one, covering the image."""
    if fractions_floods:
        masks, scores = [np.ones((H, W), bool)], [0.9]
    else:
        masks, scores = [disc(30, 20, 18), disc(30, 20, 4), disc(30, 20, 9)], [0.8, 0.7, 0.88]
    return CandidateSet.from_prediction(MaskPrediction(np.stack(masks), np.array(scores))).on(base)


def test_stepping_through_a_clicks_candidates_is_one_undo_step() -> None:
    doc = document()
    earlier = disc(8, 8, 3)
    doc.select(earlier)
    doc.select_candidate(click_candidates(earlier))
    shown = doc.candidate_choice[1]
    np.testing.assert_array_equal(doc.region, earlier | disc(30, 20, 9))  # the best score, even with the larger region's prior
    assert shown == 1
    assert doc.step_candidate(1)
    np.testing.assert_array_equal(doc.region, earlier | disc(30, 20, 18))
    np.testing.assert_array_equal(doc.target, doc.region)
    assert not doc.step_candidate(1)  # the largest already
    assert doc.step_candidate(-1) and doc.step_candidate(-1)
    np.testing.assert_array_equal(doc.region, earlier | disc(30, 20, 4))
    assert doc.undo_kinds == [StepKind.SELECTION, StepKind.SELECTION, StepKind.CANDIDATE]
    assert doc.undo_label == "Candidate 1/3"
    # One undo brings back what the click showed; the candidates can be stepped again from there.
    doc.undo()
    np.testing.assert_array_equal(doc.region, earlier | disc(30, 20, 9))
    assert doc.candidate_choice[1] == 1 and doc.redo_label == "Candidate 1/3"
    doc.redo()
    np.testing.assert_array_equal(doc.region, earlier | disc(30, 20, 4))
    # Stepping back to the click's own candidate leaves the click as the last step.
    doc.step_candidate(1)
    assert doc.undo_kinds == [StepKind.SELECTION, StepKind.SELECTION] and doc.candidate_choice[1] == 1
    doc.undo()
    np.testing.assert_array_equal(doc.region, earlier)
    assert doc.candidate_choice is None  # a plain selection has no candidates


def test_finer_candidates_go_first_and_the_step_down_to_them_is_one_undo_step() -> None:
    doc = document()
    candidates = CandidateSet.from_prediction(MaskPrediction(np.stack([disc(30, 20, 18), disc(30, 20, 9)]),
                                                             np.array([0.8, 0.88])), point=(30.0, 20.0))
    doc.select_candidate(candidates.on(np.zeros((H, W), bool)))
    assert doc.candidate_choice[1] == 0 and not doc.step_candidate(-1)  # the click shows the whole view's smallest
    before = doc.candidate_choice[0]
    assert before.may_look_closer
    finer = MaskPrediction(np.stack([disc(30, 20, 5), disc(30, 20, 2)]), np.array([0.9, 0.7]))
    extended = before.with_finer(finer)
    assert len(extended) == 4 and extended.fractions == tuple(sorted(extended.fractions))
    assert not extended.may_look_closer and extended.scores[:2] == (0.7, 0.9)
    # A finer candidate hardly different from the next larger one is no choice: left out.
    nearly = MaskPrediction(np.stack([disc(30, 20, 8.6), disc(30, 20, 5)]), np.array([0.9, 0.7]))
    assert [int(mask.sum()) for mask in map(before.with_finer(nearly).mask, range(3))] == \
        [int(disc(30, 20, r).sum()) for r in (5, 9, 18)]
    assert doc.show_finer_candidate(extended)
    np.testing.assert_array_equal(doc.region, disc(30, 20, 5))  # the next smaller one
    assert doc.candidate_choice == (extended, 1) and doc.undo_label == "Candidate 2/4"
    assert doc.step_candidate(-1)
    np.testing.assert_array_equal(doc.region, disc(30, 20, 2))
    assert doc.undo_kinds == [StepKind.SELECTION, StepKind.CANDIDATE]
    # Stepping back up to what the click showed leaves the click as the last step, as before.
    assert doc.step_candidate(1) and doc.step_candidate(1)
    np.testing.assert_array_equal(doc.region, disc(30, 20, 9))
    assert doc.undo_kinds == [StepKind.SELECTION]
    doc.undo()
    assert not doc.region.any()


def test_a_closer_look_that_finds_nothing_is_remembered_without_a_step() -> None:
    doc = document()
    candidates = CandidateSet.from_prediction(MaskPrediction(disc(30, 20, 9)[None], np.array([0.8])),
                                              point=(30.0, 20.0)).on(np.zeros((H, W), bool))
    doc.select_candidate(candidates)
    assert not doc.show_finer_candidate(candidates.with_finer(None))
    assert doc.undo_kinds == [StepKind.SELECTION] and not doc.candidate_choice[0].may_look_closer
    np.testing.assert_array_equal(doc.region, disc(30, 20, 9))
    boxed = CandidateSet.from_prediction(MaskPrediction(disc(30, 20, 9)[None], np.array([0.8])), box=True,
                                         point=(30.0, 20.0))
    assert not boxed.may_look_closer  # a box is taken as drawn


def test_candidates_are_steppable_only_until_the_next_step() -> None:
    doc = document()
    doc.select_candidate(click_candidates(np.zeros((H, W), bool)))
    doc.change_target(disc(40, 20, 5), StepKind.STROKE)
    assert doc.candidate_choice is None and not doc.step_candidate(1)
    doc.undo()
    assert doc.step_candidate(1)


def test_a_flooding_click_selects_nothing_until_stepped_up() -> None:
    doc = document()
    doc.select_candidate(click_candidates(np.zeros((H, W), bool), fractions_floods=True))
    assert not doc.region.any() and doc.candidate_choice[1] is None
    assert not doc.step_candidate(-1)
    assert doc.step_candidate(1) and doc.region.all()
    doc.undo()
    assert not doc.region.any()


# -- mask tools -------------------------------------------------------------------------------------
@pytest.mark.parametrize("label, tool", [("Grow 2 px", lambda mask: grow(mask, 2)),
                                         ("Shrink 2 px", lambda mask: shrink(mask, 2)),
                                         ("Smooth 2 px", lambda mask: smooth(mask, 2)),
                                         ("Fill Holes", fill_holes), ("Invert", invert)])
def test_each_mask_tool_is_one_undo_step_on_the_region_until_it_is_reshaped(label: str, tool) -> None:
    doc = document()
    region = disc(20, 20, 9) & ~disc(20, 20, 2) | disc(40, 20, 1)  # a ring with a hole, and a speck
    doc.select(region)
    assert doc.mask_tools_act_on_region
    assert doc.apply_mask_tool(tool, label)
    expected = tool(region)
    np.testing.assert_array_equal(doc.region, expected)
    np.testing.assert_array_equal(doc.target, expected)
    assert doc.undo_kinds[-1] is StepKind.MASK_TOOL and doc.undo_label == label
    doc.undo()
    np.testing.assert_array_equal(doc.region, region)
    np.testing.assert_array_equal(doc.target, region)
    doc.redo()
    np.testing.assert_array_equal(doc.region, expected)
    doc.undo()
    # Once the new shape is reshaped, the tools change it alone.
    reshaped = np.roll(region, 6, axis=1)
    doc.change_target(reshaped, StepKind.TRANSFORM)
    assert not doc.mask_tools_act_on_region
    assert doc.apply_mask_tool(tool, label)
    np.testing.assert_array_equal(doc.region, region)
    np.testing.assert_array_equal(doc.target, tool(reshaped))
    doc.undo()
    np.testing.assert_array_equal(doc.target, reshaped)


def test_a_mask_tool_that_changes_nothing_is_no_step() -> None:
    doc = document()
    doc.select(disc(20, 20, 6))
    assert not doc.apply_mask_tool(fill_holes, "Fill Holes")
    assert doc.undo_kinds == [StepKind.SELECTION]


def test_a_mask_tool_after_an_edit_keeps_clicks_adding_to_the_selection() -> None:
    doc = document()
    source, target = disc(20, 20, 6), disc(30, 20, 7)
    doc.select(source)
    apply_edit(doc, source, target)
    assert doc.selection_from_edit
    assert doc.apply_mask_tool(lambda mask: grow(mask, 1), "Grow 1 px")
    assert not doc.selection_from_edit


def test_mask_step_labels_are_those_on_the_current_image() -> None:
    doc = document()
    source, target = disc(20, 20, 6), disc(30, 20, 7)
    doc.select(source)
    apply_edit(doc, source, target)
    assert doc.mask_step_labels == ([], [])
    doc.apply_mask_tool(lambda mask: grow(mask, 2), "Grow 2 px")
    doc.apply_mask_tool(invert, "Invert")
    doc.undo()
    assert doc.mask_step_labels == (["Grow 2 px"], ["Invert"])
    doc.undo()
    doc.undo()  # the edit: its own mask steps are gone with it
    assert doc.mask_step_labels == ([], [])


def test_the_selection_being_worked_on_is_saved_and_reopened_with_its_moves(tmp_path) -> None:
    """A new shape not applied yet is work: it is saved with the session, with the Transform and Warp
    moves that made it (so an edit bent by pins still follows them), and reopened as it was."""
    from engine.mask_warp import pin_warp
    from engine.session import load_session, save_session
    from engine.shape_motion import Affine, Pins

    doc = document()
    apply_edit(doc, disc(20, 20, 6), disc(26, 20, 6))
    doc.select(disc(30, 18, 7))
    moved = np.roll(doc.target, 3, axis=1)
    doc.change_target(moved, StepKind.TRANSFORM, "Transform", moved_by=Affine(((1.0, 0.0, 3.0), (0.0, 1.0, 0.0))))
    pins_before, pins_after = ((28.0, 18.0), (38.0, 18.0)), ((28.0, 18.0), (40.0, 12.0))
    doc.change_target(pin_warp(doc.target, pins_before, pins_after), StepKind.WARP, "Warp",
                      moved_by=Pins(pins_before, pins_after))
    assert doc.pins == pins_after
    doc.place_pins(pins_after + ((33.0, 24.0),))
    assert doc.has_unsaved_work
    saved = doc.snapshot()
    save_session(tmp_path / "work.simnet", saved)
    doc.return_image(saved.current)
    doc.saved(saved)
    assert not doc.has_unsaved_work and not doc.session.dirty

    reopened = Document(load_session(tmp_path / "work.simnet"))
    np.testing.assert_array_equal(reopened.region, doc.region)
    np.testing.assert_array_equal(reopened.target, doc.target)
    assert reopened.shape_motion == doc.shape_motion and reopened.shape_motion.bent_by_pins
    assert reopened.pins == pins_after + ((33.0, 24.0),)  # the Warp tool's pins too
    assert not reopened.has_unsaved_work and reopened.reshaped
    reopened.change_target(np.roll(reopened.target, 1, axis=0), StepKind.STROKE, "Brush")
    assert reopened.has_unsaved_work  # a reshape after the save is unsaved work
    reopened.undo()
    assert not reopened.has_unsaved_work  # back to the saved shape

    doc.clear_selection()
    assert not doc.has_unsaved_work  # a selection alone is no work to ask about (a click gives it back)
    save_session(tmp_path / "none.simnet", doc.snapshot())
    assert not Document(load_session(tmp_path / "none.simnet")).region.any()


def test_a_damaged_saved_selection_is_reported(tmp_path) -> None:
    import json
    import zipfile

    from engine.errors import SessionError
    from engine.session import load_session, save_session

    doc = document()
    doc.select(disc(30, 18, 7))
    save_session(tmp_path / "work.simnet", doc.snapshot())
    with zipfile.ZipFile(tmp_path / "work.simnet") as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    for name, value in (("selection/target.z", __import__("zlib").compress(b"\0" * 3)),
                        ("manifest.json", json.dumps({**json.loads(parts["manifest.json"]),
                                                      "selection": {"motion": [{"affine": [[1, 0, 0], [0, 0, 0]]}]}}).encode())):
        with zipfile.ZipFile(tmp_path / "bad.simnet", "w") as archive:
            for part, data in parts.items():
                archive.writestr(part, value if part == name else data)
        with pytest.raises(SessionError, match="damaged"):
            load_session(tmp_path / "bad.simnet")


def test_warp_pins_belong_to_their_shape_and_come_back_with_it() -> None:
    """As in Puppet Warp: undoing a drag puts the pins back where they were before it; any other change of the
    shape takes them away, and undoing that change gives them back."""
    from engine.shape_motion import Pins

    doc = document()
    doc.select(disc(30, 18, 7))
    placed = ((24.0, 18.0), (36.0, 18.0))
    doc.place_pins(placed)
    dragged = ((24.0, 18.0), (38.0, 14.0))
    doc.change_target(np.roll(doc.target, -2, axis=0), StepKind.WARP, "Warp", moved_by=Pins(placed, dragged))
    assert doc.pins == dragged
    doc.change_target(np.roll(doc.target, 3, axis=1), StepKind.STROKE, "Brush")
    assert doc.pins == ()
    doc.undo()
    assert doc.pins == dragged
    doc.undo()
    assert doc.pins == placed
    doc.redo()
    assert doc.pins == dragged
    doc.clear_selection()
    assert doc.pins == ()
