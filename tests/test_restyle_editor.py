"""The editor's Restyle tool (app/restyle_controller.py), driven offscreen: exemplar from a selection,
live strength preview, Apply as one undoable History step, saved in sessions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from engine.locality import distance_outside
from engine.session import load_session
from app.canvas import Tool
from app.restyle_controller import PREPARE_DELAY_MS
from test_app import artwork, click, dialogs, isolated_settings, stroke, window  # noqa: F401 - fixtures


def prepare_a_restyle(qtbot, window, artwork: Path) -> np.ndarray:
    """The painting open, its striped disc taken as the exemplar, a patch of the background selected and its
    restyle prepared (Apply Restyle enabled); the patch's mask."""
    assert window.open_image(artwork)
    window.canvas.fit()
    restyle = window.restyle
    # The exemplar: the striped disc, selected with the segmenter like any region.
    click(window, 64, 60)
    qtbot.waitUntil(lambda: window.region.any(), timeout=20000)
    restyle.action.trigger()
    assert restyle.dock.isVisible()
    restyle.picker.use_selection_as_exemplar()  # the painting is copied on the tool's worker
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None, timeout=30000)
    assert restyle.exemplar_region is not None and restyle.exemplar_region.sum() == window.region.sum()
    # The region to restyle: a patch of the plain background.
    region = np.zeros(window.region.shape, bool)
    region[10:40, 100:150] = True
    window.document.show_masks(region, region.copy())
    window.selection.show_region()  # as a selection tool does; it tells the Restyle tool
    qtbot.waitUntil(lambda: restyle.prepared is not None, timeout=30000)
    assert restyle.panel.apply_button.isEnabled()
    return region


def test_restyle_tool_previews_applies_undoes_and_saves(qtbot, window, artwork: Path, tmp_path: Path) -> None:
    region = prepare_a_restyle(qtbot, window, artwork)
    restyle = window.restyle
    # The slider only re-blends: the same prepared restyle, a new preview.
    prepared = restyle.prepared
    restyle.panel.strength_slider.setValue(40)
    assert restyle.prepared is prepared and window.canvas.preview_item.isVisible()
    restyle.panel.strength_slider.setValue(80)
    original = window.session.current.copy()
    restyle.apply()
    qtbot.waitUntil(lambda: window.history.count() == 2, timeout=30000)
    result = window.session.current.copy()
    np.testing.assert_array_equal(result, prepared.at_strength(0.8))
    far = distance_outside(region) > prepared.reach
    np.testing.assert_array_equal(result[far], original[far])
    assert result[region][:, 0].mean() > original[region][:, 0].mean() + 40  # the disc's yellow came in
    assert window.document.undo_label == "Restyle"
    # The result is shown as it is: the selection's outline only, no translucent fill over it.
    assert window.canvas.region_item.opacity() == 0.0 and window.canvas.target_item.opacity() == 0.0
    np.testing.assert_array_equal(window.region, region)  # still selected after Apply, as after a reshape
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.session.current, original)
    window.redo_action.trigger()
    np.testing.assert_array_equal(window.session.current, result)
    assert window.sessions.save_to(tmp_path / "restyled.simnet")
    reopened = load_session(tmp_path / "restyled.simnet")
    np.testing.assert_array_equal(reopened.current, result)
    assert reopened.steps[-1].label == "Restyle"
    # Reshape and restyle chain: select the restyled region again (redo drops the selection) and reshape it.
    window.document.show_masks(region, region.copy())
    window.selection.show_masks()
    window.set_tool(Tool.BRUSH)
    window.size_slider.setValue(10)
    stroke(window, [(145, 25), (152, 30), (156, 35)])
    assert window.target_mask().sum() > region.sum()
    # The reshape waiting to be applied comes first: its preview, not a restyle's, and the panel says why.
    qtbot.waitUntil(lambda: window.canvas.preview_item.isVisible(), timeout=60000)
    qtbot.wait(3 * PREPARE_DELAY_MS)
    assert restyle.prepared is None and restyle.panel.hint_label.isVisible()
    qtbot.wait(50)
    assert restyle.panel.scroll.verticalScrollBar().maximum() == 0  # the panel made room for the hint
    with qtbot.waitSignal(window.edit_applied, timeout=60000):
        window.apply_action.trigger()
    assert window.history.count() == 3 and not np.array_equal(window.session.current, result)
    # The Restyle panel stayed open: the reshape's result is shown as it is, not a restyle preview over it.
    assert restyle.dock.isVisible()
    qtbot.wait(3 * PREPARE_DELAY_MS)
    assert restyle.prepared is None and not window.canvas.preview_item.isVisible()


def test_closing_during_a_restyle_apply_asks_about_the_restyle(qtbot, window, artwork: Path, dialogs) -> None:
    """Apply Restyle, then at once close the window (or open another file): the question about unsaved work
    waits for the restyle and counts it. It was not asked (a restyle leaves no new shape, and the step had
    not landed yet), and the restyle was lost."""
    prepare_a_restyle(qtbot, window, artwork)
    window.restyle.apply()
    assert window.workspace.applying and not window.document.has_unsaved_work
    assert not window.sessions.confirm_discard()  # the user answers neither Save nor Discard
    assert window.history.count() == 2 and window.session.dirty
    assert dialogs and dialogs[-1] == ("question", "Save the changes to this session first?")


def test_exemplar_picked_by_clicking_another_image_in_the_panel(qtbot, window, artwork: Path, tmp_path: Path) -> None:
    from engine.imageio import save_image
    from test_app import painting

    other = painting(120, 160)[..., ::-1].copy()  # a blue striped disc on an orange ground
    save_image(tmp_path / "other.png", other)
    assert window.open_image(artwork)
    restyle = window.restyle
    restyle.action.trigger()
    messages = []
    restyle.say = messages.append
    (tmp_path / "broken.png").write_bytes(b"not an image")
    restyle.picker.open_exemplar_image(tmp_path / "broken.png")  # read on the worker: the editor goes on
    qtbot.waitUntil(lambda: any("not opened" in text for text in messages), timeout=30000)
    assert restyle.picker.other_image is None and not restyle.panel.exemplar_view.isVisible()
    restyle.picker.open_exemplar_image(tmp_path / "other.png")
    qtbot.waitUntil(lambda: restyle.picker.other_image is not None, timeout=30000)
    assert restyle.panel.exemplar_view.isVisible()
    restyle.panel.exemplar_view.clicked.emit(64.0, 60.0)  # a click on the disc, in the exemplar's pixels
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None, timeout=30000)
    disc = other[..., 2] > 180
    picked = restyle.exemplar_region
    assert (picked & disc).sum() / (picked | disc).sum() > 0.7
    assert restyle.exemplar is not None and restyle.exemplar.shape == other.shape
    # A box that cannot be answered (past the picture's edge): said so, and the exemplar stays as it was.
    messages = []
    restyle.say = messages.append
    restyle.panel.exemplar_view.boxed.emit(170.0, 130.0, 200.0, 160.0)
    qtbot.waitUntil(lambda: any("failed" in text for text in messages), timeout=30000)
    assert restyle.exemplar_region is picked
    # A small box on the plain ground takes that patch of ground (answered in a zoomed view).
    restyle.panel.exemplar_view.boxed.emit(0.0, 0.0, 30.0, 30.0)
    qtbot.waitUntil(lambda: restyle.exemplar_region is not picked, timeout=30000)
    patch = restyle.exemplar_region
    assert patch[:34, :34].sum() == patch.sum() and patch.sum() > 0.5 * 31 * 31 and not (patch & disc).any()
    picked = patch
    restyle.panel.exemplar_view.boxed.emit(36.0, 32.0, 92.0, 88.0)  # a box around the disc
    qtbot.waitUntil(lambda: restyle.exemplar_region is not picked, timeout=30000)
    boxed = restyle.exemplar_region
    assert (boxed & disc).sum() / (boxed | disc).sum() > 0.7


def test_the_exemplar_dialogs_open_where_the_painting_is_and_remember_the_folder(qtbot, window, artwork: Path,
                                                                              tmp_path: Path, monkeypatch) -> None:
    """The exemplar image dialog starts in the painting's folder (not the editor's working directory), and a
    reference chosen from another folder makes that the next dialog's start."""
    from PySide6.QtWidgets import QFileDialog
    from engine.imageio import save_image
    from test_app import painting

    references = tmp_path / "references"
    references.mkdir()
    save_image(references / "other.png", painting(120, 160))
    started_in = []

    def choose(parent, caption, folder, *rest):
        started_in.append(folder)
        return (str(references / "other.png"), "") if caption == "Exemplar image" else ("", "")

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    assert window.open_image(artwork)
    restyle = window.restyle
    restyle.action.trigger()
    restyle.picker.choose_exemplar_image()
    qtbot.waitUntil(lambda: restyle.picker.other_image is not None, timeout=30000)
    restyle.picker.choose_exemplar_files()  # the image again, then no mask: nothing taken
    assert [Path(folder) for folder in started_in] == [artwork.parent, references, references]


def test_region_first_then_a_click_on_the_painting_picks_the_exemplar(qtbot, window, artwork: Path,
                                                                     monkeypatch) -> None:
    """The issue's order: select the region, take Restyle (R), click the exemplar on the same painting."""
    from PySide6.QtWidgets import QMessageBox

    from dialogs import answer_message_boxes
    from test_app import painting_with_disc

    assert window.open_image(artwork)
    window.canvas.fit()
    restyle, canvas = window.restyle, window.canvas
    region = np.zeros(window.region.shape, bool)
    region[10:40, 100:150] = True  # a patch of the plain background
    window.document.show_masks(region, region.copy())
    window.selection.show_region()
    restyle.action.trigger()
    # A region is selected and no exemplar yet: the canvas now picks the exemplar, not the selection.
    assert restyle.panel.pick_button.isChecked() and canvas.tool is Tool.EXEMPLAR
    assert not any(action.isChecked() for action in window.tool_actions.values())  # the tool bar says so
    click(window, 64, 60)  # the disc
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None, timeout=30000)
    disc = painting_with_disc(120, 160)[1]
    picked = restyle.exemplar_region
    assert (picked & disc).sum() / (picked | disc).sum() > 0.7
    np.testing.assert_array_equal(window.region, region)  # the selection stayed
    # Picked with the selection's own segmenter (its embedding of the painting): the tool loaded none of its own.
    picker = restyle.picker
    assert picker.painting_segmenter is window.selection.segmenter and picker.segmenter.segmenter is None
    assert canvas.tool is Tool.SELECT and not restyle.panel.pick_button.isChecked()
    assert window.tool_actions[Tool.SELECT].isChecked()
    assert canvas.exemplar_outline.isVisible() and not canvas.exemplar_outline.path().isEmpty()
    qtbot.waitUntil(lambda: restyle.prepared is not None, timeout=30000)
    original = window.session.current.copy()
    restyle.apply()
    qtbot.waitUntil(lambda: window.history.count() == 2, timeout=30000)
    assert window.session.current[region][:, 0].mean() > original[region][:, 0].mean() + 40  # the disc's yellow
    # The result is shown as applied: not restyled over again on its own (a second preview would show it twice).
    qtbot.wait(3 * PREPARE_DELAY_MS)
    assert restyle.prepared is None and not canvas.preview_item.isVisible()
    assert restyle.panel.apply_button.text() == "Preview Restyle" and restyle.panel.apply_button.isEnabled()
    # An undo (which changes the image in place) shows the original as it is, not a preview over it; the
    # exemplar (a copy) keeps the pixels it was picked from. Asked again (the strength), it restyles the
    # image as it now is.
    exemplar_pixels, restyled = restyle.exemplar.copy(), window.session.current.copy()
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.session.current, original)
    qtbot.wait(3 * PREPARE_DELAY_MS)
    assert restyle.prepared is None and not canvas.preview_item.isVisible()
    np.testing.assert_array_equal(restyle.exemplar, exemplar_pixels)
    assert restyle.panel.apply_button.text() == "Preview Restyle"  # the way to ask, beside the strength
    restyle.panel.apply_button.click()
    qtbot.waitUntil(lambda: restyle.prepared is not None, timeout=30000)
    np.testing.assert_array_equal(restyle.prepared.image, original)
    assert restyle.panel.apply_button.text() == "Apply Restyle" and restyle.panel.apply_button.isEnabled()
    window.redo_action.trigger()  # the restyle as applied, and no preview over it
    np.testing.assert_array_equal(window.session.current, restyled)
    qtbot.wait(3 * PREPARE_DELAY_MS)
    assert restyle.prepared is None and not canvas.preview_item.isVisible()
    restyle.panel.strength_slider.setValue(60)  # ... until the artist asks for more
    window.document.show_masks(region, region.copy())  # (redo drops the selection: the same one again)
    window.selection.show_region()
    qtbot.waitUntil(lambda: restyle.prepared is not None, timeout=30000)
    # Picking again, then Esc: picking ends, the Select tool is back.
    restyle.panel.pick_button.click()
    assert canvas.tool is Tool.EXEMPLAR and restyle.picker.stop_picking_action.isEnabled()
    qtbot.keyClick(canvas, Qt.Key_Escape)
    assert canvas.tool is Tool.SELECT and not restyle.panel.pick_button.isChecked()
    assert not restyle.picker.stop_picking_action.isEnabled()
    np.testing.assert_array_equal(window.region, region)  # Esc stopped the picking; it did not clear the selection
    # Picking again, then taking another tool: picking ends, that tool is in use.
    restyle.panel.pick_button.click()
    assert canvas.tool is Tool.EXEMPLAR
    window.tool_actions[Tool.BRUSH].trigger()
    assert canvas.tool is Tool.BRUSH and not restyle.panel.pick_button.isChecked()
    assert [kind for kind, action in window.tool_actions.items() if action.isChecked()] == [Tool.BRUSH]
    # Picking, then closing the panel: the Select tool is back and the exemplar outline goes with the panel.
    window.set_tool(Tool.SELECT)
    restyle.panel.pick_button.click()
    restyle.action.trigger()
    assert not restyle.dock.isVisible() and canvas.tool is Tool.SELECT and not canvas.exemplar_outline.isVisible()
    restyle.action.trigger()
    assert canvas.exemplar_outline.isVisible() and not restyle.panel.pick_button.isChecked()  # an exemplar is there
    # Another painting: the exemplar (pixels of the first) stays usable, but is no longer outlined on the canvas.
    answer_message_boxes(monkeypatch, warning=QMessageBox.Cancel, question=QMessageBox.Discard)  # unsaved: discard
    assert window.open_image(artwork)
    assert restyle.exemplar is not None and not canvas.exemplar_outline.isVisible()
    assert "opened before" in restyle.panel.exemplar_label.text()


def test_a_second_exemplar_is_mixed_in_by_the_mix_slider(qtbot, window, artwork: Path, tmp_path: Path) -> None:
    from engine.imageio import save_image
    from engine.restyle import prepare_restyle
    from test_app import painting

    other = painting(120, 160)[..., ::-1].copy()  # a blue striped disc on an orange ground
    save_image(tmp_path / "other.png", other)
    assert window.open_image(artwork)
    window.canvas.fit()
    restyle = window.restyle
    region = np.zeros(window.region.shape, bool)
    region[10:40, 100:150] = True
    window.document.show_masks(region, region.copy())
    window.selection.show_region()
    restyle.action.trigger()
    assert not restyle.panel.second_button.isEnabled() and not restyle.panel.mix_slider.isVisible()
    click(window, 64, 60)  # the first exemplar: the yellow disc of this painting
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None, timeout=30000)
    first = restyle.exemplars.first
    assert restyle.panel.second_button.isEnabled()
    restyle.panel.second_button.click()  # the next exemplar taken is a second one
    restyle.picker.open_exemplar_image(tmp_path / "other.png")
    qtbot.waitUntil(lambda: restyle.picker.other_image is not None, timeout=30000)
    restyle.panel.exemplar_view.clicked.emit(64.0, 60.0)  # the blue disc of the other image
    # The preview's timer for the first exemplar fires while the click is on the worker: the preview waits for
    # the click's answer, it does not drop it (it did, on a slow machine, leaving the click unanswered).
    restyle.prepare()
    qtbot.waitUntil(lambda: restyle.exemplars.second is not None, timeout=30000)
    second = restyle.exemplars.second
    assert restyle.exemplars.first is first and not restyle.panel.second_button.isChecked()
    assert restyle.panel.mix_slider.isVisible() and restyle.panel.remove_second_button.isVisible()
    assert "Second: " in restyle.panel.exemplar_label.text()
    current = window.session.current

    def restyled_at(mix: int) -> np.ndarray:
        restyle.panel.mix_slider.setValue(mix)
        qtbot.waitUntil(lambda: restyle.prepared is not None, timeout=30000)
        expected = prepare_restyle(current, region, first.image, first.region, second_exemplar=second.image,
                                   second_region=second.region, mix=mix / 100.0, reach=window.settings.reach)
        np.testing.assert_array_equal(restyle.prepared.styled, expected.styled)  # what the engine gives
        return restyle.prepared.at_strength(1.0)[region].astype(float)

    yellow, half, blue = restyled_at(0), restyled_at(50), restyled_at(100)
    assert yellow[:, 0].mean() > blue[:, 0].mean() + 60 and blue[:, 2].mean() > yellow[:, 2].mean() + 60
    assert blue[:, 2].mean() > half[:, 2].mean() > yellow[:, 2].mean()  # the mix lies between the two
    restyle.panel.remove_second_button.click()
    assert restyle.exemplars.second is None and not restyle.panel.mix_slider.isVisible()
    qtbot.waitUntil(lambda: restyle.prepared is not None, timeout=30000)
    np.testing.assert_array_equal(restyle.prepared.at_strength(1.0)[region], yellow.astype(np.uint8))


def test_exemplar_from_files_is_read_on_the_worker_and_checked(qtbot, window, artwork: Path, tmp_path: Path) -> None:
    """*Exemplar from Files…*: an image and its mask, read on the tool's worker; a mask of another size, an empty
    mask or a file that is no image is said so, and the exemplar stays as it was."""
    from engine.imageio import save_image, save_mask
    from test_app import painting

    other = painting(90, 100)[..., ::-1].copy()
    save_image(tmp_path / "other.png", other)
    region = np.zeros((90, 100), bool)
    region[20:60, 30:80] = True
    save_mask(tmp_path / "region.png", region)
    save_mask(tmp_path / "small.png", region[:50])
    save_mask(tmp_path / "empty.png", np.zeros((90, 100), bool))
    (tmp_path / "broken.png").write_bytes(b"not an image")
    assert window.open_image(artwork)
    restyle = window.restyle
    restyle.action.trigger()
    messages = []
    restyle.say = messages.append
    restyle.picker.load_exemplar(tmp_path / "other.png", tmp_path / "region.png")
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None, timeout=30000)
    np.testing.assert_array_equal(restyle.exemplar_region, region)
    np.testing.assert_array_equal(restyle.exemplar, other)
    taken = restyle.exemplar_region
    for image, mask, said in (("other.png", "small.png", "but the image is 100x90"), ("other.png", "empty.png", "empty"),
                              ("broken.png", "region.png", "broken.png")):
        del messages[:]
        restyle.picker.load_exemplar(tmp_path / image, tmp_path / mask)
        qtbot.waitUntil(lambda: any("not loaded" in text for text in messages), timeout=30000)
        assert any(said in text for text in messages if "not loaded" in text), messages
        assert restyle.exemplar_region is taken


def picking_with_a_selection(window, artwork: Path) -> np.ndarray:
    """``artwork`` open with a rectangle selected (returned) and the Restyle tool on, picking the exemplar."""
    assert window.open_image(artwork)
    window.canvas.fit()
    region = np.zeros(window.region.shape, bool)
    region[10:40, 100:150] = True
    window.document.show_masks(region, region.copy())
    window.selection.show_region()
    window.restyle.action.trigger()
    return region


def test_below_the_exemplar_clicks_smallest_candidate_a_closer_look_is_taken(qtbot, window, artwork: Path) -> None:
    """As for a selection's click: Smaller past the smallest candidate asks the segmenter to look closer, once,
    and the smaller candidate it finds becomes the exemplar."""
    from test_editor_masks import NestedSegmenter, disc

    segmenter = NestedSegmenter()
    window.selection.segmenter.put(segmenter)
    region = picking_with_a_selection(window, artwork)
    restyle = window.restyle
    panel = restyle.panel
    click(window, 64, 40)
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None, timeout=30000)
    np.testing.assert_array_equal(restyle.exemplar_region, disc(64, 40, 15))
    panel.smaller_button.click()
    np.testing.assert_array_equal(restyle.exemplar_region, disc(64, 40, 6))
    assert panel.smaller_button.isEnabled()
    panel.smaller_button.click()
    qtbot.waitUntil(lambda: restyle.exemplar_region.sum() == disc(64, 40, 3).sum(), timeout=30000)
    np.testing.assert_array_equal(restyle.exemplar_region, disc(64, 40, 3))
    assert "candidate 1/4" in panel.candidate_label.text() and not panel.smaller_button.isEnabled()
    np.testing.assert_array_equal(window.region, region)  # the selection stays
    panel.larger_button.click()
    np.testing.assert_array_equal(restyle.exemplar_region, disc(64, 40, 6))
    assert segmenter.closer_looks == 1


def test_the_exemplar_click_steps_to_a_smaller_or_larger_candidate(qtbot, window, artwork: Path) -> None:
    """A click that takes the exemplar keeps its candidates: Larger / Smaller in the panel take the next one in
    its place (the second exemplar's place when the click took the second), as Tab steps a selection."""
    region = picking_with_a_selection(window, artwork)
    restyle = window.restyle
    panel, picker = restyle.panel, restyle.picker
    assert panel.pick_button.isChecked() and panel.candidate_row.isHidden()
    click(window, 64, 40)  # a stripe of the disc: a stripe, the disc, the ground around, nearly all
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None, timeout=30000)
    pick = picker.last_pick
    assert pick is not None and len(pick.candidates) > 2
    first_taken = pick.index
    np.testing.assert_array_equal(restyle.exemplar_region, pick.candidates.mask(first_taken))
    assert not panel.candidate_row.isHidden() and f"candidate {first_taken + 1}/" in panel.candidate_label.text()
    assert panel.larger_button.isEnabled() and panel.smaller_button.isEnabled()  # at the smallest: a closer look
    panel.larger_button.click()
    np.testing.assert_array_equal(restyle.exemplar_region, pick.candidates.mask(first_taken + 1))
    assert restyle.exemplar_region.sum() > pick.candidates.mask(first_taken).sum()
    assert panel.smaller_button.isEnabled() and f"candidate {first_taken + 2}/" in panel.candidate_label.text()
    panel.smaller_button.click()
    np.testing.assert_array_equal(restyle.exemplar_region, pick.candidates.mask(first_taken))
    # The exemplar's click is the last click: Tab steps its candidates, the selection stays; the status bar says so.
    candidates = window.candidates
    assert candidates.larger_action.isEnabled()
    candidates.larger_action.trigger()
    np.testing.assert_array_equal(restyle.exemplar_region, pick.candidates.mask(first_taken + 1))
    np.testing.assert_array_equal(window.region, region)
    assert candidates.label.text().startswith("Exemplar: candidate")
    candidates.smaller_action.trigger()
    np.testing.assert_array_equal(restyle.exemplar_region, pick.candidates.mask(first_taken))
    # A click that selects comes after it: Tab steps the selection's candidates again, the exemplar stays.
    taken = restyle.exemplar_region.copy()
    click(window, 64, 60)
    qtbot.waitUntil(lambda: window.document.candidate_choice is not None, timeout=20000)
    shown = window.document.candidate_choice[1]
    assert not restyle.picker.is_last_click() and candidates.larger_action.isEnabled()
    candidates.larger_action.trigger()
    assert window.document.candidate_choice[1] == shown + 1
    np.testing.assert_array_equal(restyle.exemplar_region, taken)
    assert not candidates.label.text().startswith("Exemplar")
    window.undo_action.trigger()
    window.document.show_masks(region, region.copy())
    window.selection.show_region()
    # A second exemplar picked the same way: its steps change the second, never the first.
    first = restyle.exemplar_region.copy()
    panel.second_button.click()
    panel.pick_button.click()
    click(window, 64, 40)
    qtbot.waitUntil(lambda: restyle.exemplars.second is not None, timeout=30000)
    panel.larger_button.click()
    np.testing.assert_array_equal(restyle.exemplars.second.region, picker.last_pick.candidates.mask(first_taken + 1))
    np.testing.assert_array_equal(restyle.exemplar_region, first)
    # Taken otherwise (the selection as exemplar): no click to step through any more.
    restyle.remove_second_exemplar()
    assert picker.last_pick is None and panel.candidate_row.isHidden()
    picker.use_selection_as_exemplar()
    qtbot.waitUntil(lambda: restyle.exemplar_region is not None and restyle.exemplar_region.sum() == region.sum(),
                    timeout=30000)
    assert picker.last_pick is None and panel.candidate_row.isHidden()


def test_strength_and_apply_stay_in_view_on_a_short_window(qtbot, window, artwork: Path, tmp_path: Path) -> None:
    """With another painting open in the panel on a window too short for all of it, the panel scrolls above
    Strength and Apply, which stay in view: what is used most once the exemplar is taken."""
    from PySide6.QtCore import QPoint, QRect
    from PySide6.QtWidgets import QScrollArea
    from engine.imageio import save_image
    from test_app import painting

    save_image(tmp_path / "other.png", painting(120, 160))
    window.resize(900, 520)
    assert window.open_image(artwork)
    restyle = window.restyle
    restyle.action.trigger()
    restyle.picker.open_exemplar_image(tmp_path / "other.png")
    qtbot.waitUntil(lambda: restyle.picker.other_image is not None, timeout=30000)
    qtbot.wait(50)
    panel = restyle.panel
    scroll = panel.findChild(QScrollArea) or panel
    assert scroll.verticalScrollBar().maximum() > 0  # it does not all fit: the upper part scrolls
    shown = QRect(panel.mapTo(window, QPoint(0, 0)), panel.size()) & window.rect()
    for widget in (panel.strength_slider, panel.apply_button):
        place = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
        assert widget.isVisible() and shown.contains(place)
