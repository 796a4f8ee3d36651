"""The editor's candidate stepping (Tab, Shift+Tab, Ctrl/Alt+wheel) and Mask menu, driven on the real
window (offscreen): what the document's masks and undo stack hold afterwards."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from app.canvas import Tool
from app.main_window import MainWindow
from engine import mask_tools
from engine.document import StepKind
from engine.imageio import save_mask
from engine.segmentation.base import MaskPrediction
from test_app import artwork, click, dialogs, isolated_settings, stroke, view_point, window  # noqa: F401 - fixtures

H, W = 120, 160


def disc(cx: float, cy: float, radius: float) -> np.ndarray:
    ys, xs = np.mgrid[0:H, 0:W]
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2


class NestedSegmenter:
    """A segmenter double with known answers: three nested discs around each click (radius 6, 15
    and 70, the last covering most of the painting and scored best), or with ``floods`` only one
    that covers it all."""

    name, device, notice = "nested discs (test double)", "cpu", ""

    def __init__(self, floods: bool = False) -> None:
        self.floods = floods

    def set_image(self, image, progress=None) -> None:
        pass

    def predict(self, points=(), labels=(), box=None, multimask=True, previous_mask=None) -> MaskPrediction:
        x, y = points[0] if points else ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)
        x, y = round(x), round(y)  # the click comes back from view coordinates a fraction off
        if self.floods:
            return MaskPrediction(np.ones((1, H, W), bool), np.array([0.9]))
        masks = np.stack([disc(x, y, 70), disc(x, y, 6), disc(x, y, 15)])
        return MaskPrediction(masks, np.array([0.95, 0.6, 0.8]))

    def finer(self, point, smaller_than: int) -> MaskPrediction | None:
        """A closer look finds one disc of radius 3 inside the smallest."""
        x, y = round(point[0]), round(point[1])
        self.closer_looks = getattr(self, "closer_looks", 0) + 1
        small = disc(x, y, 3)
        return MaskPrediction(small[None], np.array([0.7])) if small.sum() < smaller_than else None


def use_segmenter(window: MainWindow, segmenter) -> None:
    window.selection.segmenter.put(segmenter)


def open_and_click(qtbot, window: MainWindow, artwork: Path, segmenter, x: float = 64, y: float = 60) -> None:
    use_segmenter(window, segmenter)
    assert window.open_image(artwork)
    window.canvas.fit()
    undo_depth = len(window.document.undo_kinds)
    click(window, x, y)
    qtbot.waitUntil(lambda: len(window.document.undo_kinds) > undo_depth, timeout=20000)


def wheel(window: MainWindow, x: float, y: float, notches: int, modifiers=Qt.NoModifier) -> None:
    position = QPointF(view_point(window, x, y))
    global_position = QPointF(window.canvas.viewport().mapToGlobal(position.toPoint()))
    event = QWheelEvent(position, global_position, QPoint(), QPoint(0, 120 * notches), Qt.NoButton, modifiers,
                        Qt.NoScrollPhase, False)
    QApplication.sendEvent(window.canvas.viewport(), event)


def test_tab_and_the_wheel_step_through_a_clicks_candidates(qtbot, window: MainWindow, artwork: Path) -> None:
    open_and_click(qtbot, window, artwork, NestedSegmenter())
    # The best-scored candidate covers most of the painting: the click shows the object instead.
    np.testing.assert_array_equal(window.region, disc(64, 60, 15))
    assert window.candidates.label.text().startswith("Candidate 2/3 · 3.7 % of the painting · score 0.80")
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key_Tab)
    np.testing.assert_array_equal(window.region, disc(64, 60, 70))
    np.testing.assert_array_equal(window.target_mask(), window.region)
    assert window.candidates.label.text().startswith("Candidate 3/3")
    assert not window.candidates.larger_action.isEnabled()
    QTest.keyClick(window.canvas, Qt.Key_Backtab, Qt.ShiftModifier)
    QTest.keyClick(window.canvas, Qt.Key_Backtab, Qt.ShiftModifier)
    np.testing.assert_array_equal(window.region, disc(64, 60, 6))
    assert window.candidates.label.text().startswith("Candidate 1/3")
    # Ctrl+wheel and Alt+wheel step too; the plain wheel still zooms and leaves the selection alone.
    wheel(window, 64, 60, 1, Qt.ControlModifier)
    np.testing.assert_array_equal(window.region, disc(64, 60, 15))
    wheel(window, 64, 60, 1, Qt.AltModifier)
    np.testing.assert_array_equal(window.region, disc(64, 60, 70))
    zoom = window.canvas.zoom
    wheel(window, 64, 60, 1)
    assert window.canvas.zoom > zoom
    np.testing.assert_array_equal(window.region, disc(64, 60, 70))
    # All the stepping is one undo step: undo shows what the click showed, then what was before it.
    assert window.document.undo_kinds == [StepKind.SELECTION, StepKind.CANDIDATE]
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.region, disc(64, 60, 15))
    assert window.candidates.label.text().startswith("Candidate 2/3")
    window.undo_action.trigger()
    assert not window.region.any() and window.candidates.label.text() == ""
    window.redo_action.trigger()
    window.redo_action.trigger()
    np.testing.assert_array_equal(window.region, disc(64, 60, 70))


def test_shift_tab_below_the_smallest_candidate_looks_closer_once(qtbot, window: MainWindow, artwork: Path) -> None:
    segmenter = NestedSegmenter()
    open_and_click(qtbot, window, artwork, segmenter)
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key_Backtab, Qt.ShiftModifier)
    np.testing.assert_array_equal(window.region, disc(64, 60, 6))
    assert window.candidates.smaller_action.isEnabled()  # the closer look is one step further down
    QTest.keyClick(window.canvas, Qt.Key_Backtab, Qt.ShiftModifier)
    qtbot.waitUntil(lambda: window.region.sum() == disc(64, 60, 3).sum(), timeout=20000)
    np.testing.assert_array_equal(window.region, disc(64, 60, 3))
    assert window.candidates.label.text().startswith("Candidate 1/4")
    assert "closer look" in window.message_label.text()
    assert not window.candidates.smaller_action.isEnabled() and segmenter.closer_looks == 1
    # Still one undo step for the whole run of steps; back up, the finer candidate stays in the list.
    assert window.document.undo_kinds == [StepKind.SELECTION, StepKind.CANDIDATE]
    QTest.keyClick(window.canvas, Qt.Key_Tab)
    np.testing.assert_array_equal(window.region, disc(64, 60, 6))
    assert window.candidates.label.text().startswith("Candidate 2/4")
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.region, disc(64, 60, 15))
    assert segmenter.closer_looks == 1


def test_a_further_click_adds_its_own_candidate_and_steps_only_that(qtbot, window: MainWindow, artwork: Path) -> None:
    open_and_click(qtbot, window, artwork, NestedSegmenter())
    click(window, 120, 40)
    qtbot.waitUntil(lambda: len(window.document.undo_kinds) == 2, timeout=20000)
    np.testing.assert_array_equal(window.region, disc(64, 60, 15) | disc(120, 40, 15))
    window.candidates.smaller_action.trigger()
    np.testing.assert_array_equal(window.region, disc(64, 60, 15) | disc(120, 40, 6))
    # After a stroke the click's candidates are done with: Tab does nothing to the masks.
    window.set_tool(window.canvas.tool.BRUSH)
    stroke(window, [(20, 20), (30, 25)])
    region, target = window.region.copy(), window.target_mask().copy()
    assert not window.candidates.larger_action.isEnabled()
    QTest.keyClick(window.canvas, Qt.Key_Tab)
    np.testing.assert_array_equal(window.region, region)
    np.testing.assert_array_equal(window.target_mask(), target)


def test_a_click_never_floods_the_painting_unless_stepped_up(qtbot, window: MainWindow, artwork: Path) -> None:
    open_and_click(qtbot, window, artwork, NestedSegmenter(floods=True))
    assert not window.region.any()
    assert "Nothing selected" in window.message_label.text()
    assert window.candidates.label.text().startswith("No candidate shown")
    window.canvas.setFocus()
    QTest.keyClick(window.canvas, Qt.Key_Tab)
    assert window.region.all()
    window.undo_action.trigger()
    assert not window.region.any()
    # A box is taken as drawn, however much of the painting it covers.
    stroke(window, [(2, 2), (80, 60), (158, 118)])  # a drag with the Select tool
    qtbot.waitUntil(lambda: window.region.any(), timeout=20000)
    assert window.region.all()


def test_a_click_with_the_built_in_segmenter_names_its_candidate(qtbot, window: MainWindow, artwork: Path) -> None:
    assert window.open_image(artwork)
    window.canvas.fit()
    click(window, 64, 60)
    qtbot.waitUntil(lambda: window.region.any(), timeout=60000)
    choice = window.document.candidate_choice
    assert choice is not None and choice[1] is not None
    assert window.candidates.label.text().startswith(f"Candidate {choice[1] + 1}/{len(choice[0])} · ")
    assert window.region.mean() <= 0.5


def mask_menu_action(window: MainWindow, text: str):
    actions = {action.text().replace("&", ""): action for action in window.mask_menu.actions()}
    return actions[text]


@pytest.mark.parametrize("text, verb, tool", [("Grow…", "Grow", mask_tools.grow),
                                              ("Shrink…", "Shrink", mask_tools.shrink),
                                              ("Smooth Outline…", "Smooth", mask_tools.smooth)])
def test_radius_tools_from_the_mask_menu_are_undoable(qtbot, window: MainWindow, artwork: Path, monkeypatch,
                                                      text: str, verb: str, tool) -> None:
    asked = []
    monkeypatch.setattr(QInputDialog, "getInt", lambda *args: asked.append(args[2:4]) or (4, True))
    open_and_click(qtbot, window, artwork, NestedSegmenter())
    region = window.region.copy()
    mask_menu_action(window, text).trigger()
    assert asked and "selection" in asked[0][0] and asked[0][1] == 2  # 0.5 % of 160 px, at least 2
    np.testing.assert_array_equal(window.region, tool(region, 4))
    np.testing.assert_array_equal(window.target_mask(), tool(region, 4))
    assert window.document.undo_label == f"{verb} 4 px (Selection)"
    assert window.history.currentItem().text().endswith(f"· Select\n  · {verb} 4 px (Selection)")
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.region, region)
    assert window.history.currentItem().text().endswith(f"· Select\n  ↷ {verb} 4 px (Selection)")
    assert window.message_label.text().startswith(f"Undone: {verb} 4 px (Selection)")
    # Once the new shape is reshaped, the tools change it alone.
    window.canvas.set_tool(window.canvas.tool.BRUSH)
    window.set_tool(window.canvas.tool)
    stroke(window, [(90, 60), (100, 60)])
    reshaped = window.target_mask().copy()
    mask_menu_action(window, text).trigger()
    np.testing.assert_array_equal(window.region, region)
    np.testing.assert_array_equal(window.target_mask(), tool(reshaped, 4))
    assert window.document.undo_label == f"{verb} 4 px (New Shape)"
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.target_mask(), reshaped)


def test_fill_holes_and_invert_from_the_mask_menu(qtbot, window: MainWindow, artwork: Path) -> None:
    open_and_click(qtbot, window, artwork, NestedSegmenter())
    ring = disc(64, 60, 15) & ~disc(64, 60, 4)
    window.document.select(ring)  # a selection with a hole, as several clicks can leave it
    window.selection.show_masks()
    mask_menu_action(window, "Fill Holes").trigger()
    np.testing.assert_array_equal(window.region, disc(64, 60, 15))
    QTest.keySequence(window, "Ctrl+Shift+I")  # Invert
    np.testing.assert_array_equal(window.region, ~disc(64, 60, 15))
    assert window.document.undo_kinds[-2:] == [StepKind.MASK_TOOL, StepKind.MASK_TOOL]
    window.undo_action.trigger()
    window.undo_action.trigger()
    np.testing.assert_array_equal(window.region, ring)


def test_a_mask_is_never_saved_over_the_artwork(qtbot, window: MainWindow, artwork: Path, monkeypatch,
                                                dialogs) -> None:  # noqa: F811
    """Mask > Save Mask onto the artwork's own file, or Export Masks into a folder where the artwork is named
    region_mask.png, is refused in one line: the file dialog's "replace it?" does not say that the file is the
    painting, which a mask replaced."""
    open_and_click(qtbot, window, artwork, NestedSegmenter())
    painting = artwork.read_bytes()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(artwork), ""))
    mask_menu_action(window, "Save Mask…").trigger()
    assert artwork.read_bytes() == painting
    assert "is the artwork itself" in window.last_error and "\n" not in window.last_error
    named = artwork.with_name("region_mask.png")
    named.write_bytes(painting)
    window.session.artwork.path = named
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *args: str(named.parent))
    window.exporter.export_masks()
    assert named.read_bytes() == painting and not named.with_name("target_mask.png").exists()
    assert "the artwork itself is" in window.last_error


def test_save_and_load_a_mask_from_the_mask_menu(qtbot, window: MainWindow, artwork: Path, monkeypatch,
                                                 tmp_path: Path, dialogs) -> None:  # noqa: F811
    open_and_click(qtbot, window, artwork, NestedSegmenter())
    region = window.region.copy()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args: (str(tmp_path / "saved"), ""))
    mask_menu_action(window, "Save Mask…").trigger()
    assert (tmp_path / "saved.png").exists()
    window.clear_action.trigger()
    assert not window.region.any()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(tmp_path / "saved.png"), ""))
    mask_menu_action(window, "Load Mask…").trigger()
    np.testing.assert_array_equal(window.region, region)
    assert window.document.undo_label == "Load saved.png (Selection)"
    window.undo_action.trigger()
    assert not window.region.any()
    # A mask of another shape, or a damaged file, is refused with one line; nothing changes.
    save_mask(tmp_path / "square.png", np.ones((50, 50), bool))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot a png")
    for name in ("square.png", "broken.png"):
        monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, name=name: (str(tmp_path / name), ""))
        mask_menu_action(window, "Load Mask…").trigger()
        assert not window.region.any()
        assert window.last_error and "\n" not in window.last_error and "Traceback" not in window.last_error
        assert window.message_label.text().startswith("Cannot load the mask")
    assert "50x50" in dialogs[-2][1] and len(dialogs) == 2


def test_the_keyboard_focus_stays_on_the_canvas_for_the_tools_one_key_shortcuts(qtbot, window: MainWindow,
                                                                                artwork: Path) -> None:
    """From the start the tools' keys work; Tab past the largest candidate does not move the focus to a toolbar
    field (where B, E, T would be lost); and a letter typed with the focus in the reach field still picks a tool,
    while Return there gives the focus back to the canvas."""
    assert window.focusWidget() is window.canvas
    open_and_click(qtbot, window, artwork, NestedSegmenter())
    for _ in range(3):  # 2/3 -> 3/3, then twice with no larger candidate
        QTest.keyClick(window.focusWidget(), Qt.Key_Tab)
    assert window.candidates.label.text().startswith("Candidate 3/3")
    assert window.focusWidget() is window.canvas
    QTest.keyClick(window.focusWidget(), Qt.Key_B)
    assert window.canvas.tool is Tool.BRUSH
    spin = window.reach.spin
    spin.setFocus()
    QTest.keyClick(spin, Qt.Key_E)
    assert window.canvas.tool is Tool.ERASER
    QTest.keyClick(spin, Qt.Key_A, Qt.ControlModifier)  # select the field's text; digits still go in
    QTest.keyClicks(spin, "25")
    QTest.keyClick(spin, Qt.Key_Return)
    assert spin.value() == 25 and window.canvas.tool is Tool.ERASER
    assert window.focusWidget() is window.canvas
