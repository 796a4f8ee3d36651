"""Random editor sessions: every action an artist has, in a random order, with what must hold checked after each.

The editor runs offscreen on a small painting of three discs (settings and autosaves in a scratch folder). Each
step is one of: a click or a box with the Select tool (sometimes a removing Alt-click), a candidate step, a
Transform drag (on a handle or inside, with or without Shift or Ctrl), an arrow-key nudge, a Brush or Eraser
stroke, a Warp pin placed or dragged (or placed and dragged at once), a Mask menu tool, Apply, Remove Selection, undo or redo, a History row, Clear Selection or
Reset Shape, the Restyle tool (panel, an exemplar picked on the painting or taken from the selection, the strength,
Apply Restyle), and saving the session and opening it again. After each step, once the workers are idle:

- no exception reached the event loop and no error dialog was shown (a click that finds nothing is said in the
  status bar, not in a dialog);
- the masks and the painting keep the painting's size; at the History's Original row the painting is the original;
- after an Apply (reshape, restyle or removal) no pixel changed beyond the default reach of the region and its new
  shape, and (now and then) undo gives the painting back and redo the result;
- a reopened session shows the painting it was saved with.

With ``--hurry P`` an action follows the last one at once with chance P, while the work the last one started (an
Apply, a segmentation, a preview) may still run, as a quick hand does; the checks wait for the next calm step.

usage: QT_QPA_PLATFORM=offscreen python tools/editor_monkey.py [--seed 1] [--steps 150] [--size 160x220] [--hurry P]
Exits 1 with the first failure and the steps before it. Dialogs that would wait for an answer (file dialogs,
message boxes, the Mask menu's radius) answer at once.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.editor_harness import isolate_user_state  # noqa: E402

#: Each action's weight: how often it is drawn.
WEIGHTS = {"select": 5, "box": 1, "candidate": 1, "transform": 5, "nudge": 2, "brush": 3, "warp": 3, "mask_tool": 2,
           "apply": 3, "remove": 1, "undo": 4, "history": 2, "clear": 1, "restyle": 3, "save_reopen": 0.5}
IDLE_TIMEOUT = 90.0


def painting(height: int = 160, width: int = 220) -> np.ndarray:
    """A grainy blue ground with three discs of distinct colours."""
    rng = np.random.default_rng(0)
    ys, xs = np.mgrid[0:height, 0:width]
    image = rng.normal(0, 10, (height, width, 3)) + np.array([60, 90, 160])
    for cx, cy, radius, colour in ((60, 70, 30, (220, 190, 60)), (160, 90, 25, (200, 40, 40)),
                                   (110, 30, 15, (40, 200, 90))):
        disc = (xs - cx) ** 2 + (ys - cy) ** 2 < radius ** 2
        image[disc] = np.array(colour) + rng.normal(0, 8, (int(disc.sum()), 3))
    return np.clip(image, 0, 255).astype(np.uint8)


class Monkey:
    """One random session on ``window`` (a shown MainWindow with the painting open)."""

    def __init__(self, application, window, seed: int, scratch: Path, hurry: float = 0.0,
                 weights: dict[str, float] | None = None) -> None:
        self.app, self.window, self.scratch = application, window, scratch
        #: How often each action is drawn (WEIGHTS, some changed).
        self.weights = {**WEIGHTS, **(weights or {})}
        self.rng = np.random.default_rng(seed)
        #: The chance that an action follows the last one at once, while its work may still run (a quick hand).
        self.hurry = hurry
        self.hurried = False
        self.height, self.width = window.session.shape
        self.failures: list[str] = []
        #: How many error dialogs the editor has shown (given by the caller, which answers them).
        self.errors_shown: Callable[[], int] = lambda: 0

    # -- driving -----------------------------------------------------------------------------------
    def idle(self, timeout: float = IDLE_TIMEOUT) -> bool:
        """Run the event loop until no worker has work (twice in a row: a finished job may queue another)."""
        window, quiet = self.window, 0
        workers = (window.edits.worker, window.selection.worker, window.restyle.worker, window.live.worker)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.app.processEvents()
            quiet = quiet + 1 if not any(worker.busy for worker in workers) else 0
            if quiet >= 5:
                return True
            time.sleep(0.01)
        return False

    def send(self, kind, x: float, y: float, button, buttons, modifiers) -> None:
        from PySide6.QtCore import QPointF
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        canvas = self.window.canvas
        position = QPointF(canvas.mapFromScene(QPointF(x, y)))
        global_position = QPointF(canvas.viewport().mapToGlobal(position.toPoint()))
        QApplication.sendEvent(canvas.viewport(), QMouseEvent(kind, position, global_position, button, buttons,
                                                              modifiers))

    def drag(self, points: list[tuple[float, float]], modifiers=None) -> None:
        """A press at the first point, moves through the others, a release at the last (a click when one point)."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QMouseEvent

        modifiers = Qt.NoModifier if modifiers is None else modifiers
        self.send(QMouseEvent.Type.MouseButtonPress, *points[0], Qt.LeftButton, Qt.LeftButton, modifiers)
        for point in points[1:]:
            self.send(QMouseEvent.Type.MouseMove, *point, Qt.NoButton, Qt.LeftButton, modifiers)
            self.app.processEvents()
        self.send(QMouseEvent.Type.MouseButtonRelease, *points[-1], Qt.LeftButton, Qt.NoButton, modifiers)

    def anywhere(self) -> tuple[float, float]:
        return float(self.rng.uniform(0, self.width)), float(self.rng.uniform(0, self.height))

    def on_shape(self) -> tuple[float, float]:
        """A pixel of the new shape (anywhere when there is none)."""
        target = self.window.target_mask()
        if not target.any():
            return self.anywhere()
        ys, xs = np.nonzero(target)
        index = self.rng.integers(len(xs))
        return float(xs[index]), float(ys[index])

    # -- the actions -------------------------------------------------------------------------------
    def select(self) -> None:
        from PySide6.QtCore import Qt
        from app.canvas import Tool

        self.window.set_tool(Tool.SELECT)
        self.drag([self.anywhere()], Qt.AltModifier if self.rng.random() < 0.15 else Qt.NoModifier)

    def box(self) -> None:
        from app.canvas import Tool

        self.window.set_tool(Tool.SELECT)
        (x0, y0), (x1, y1) = self.anywhere(), self.anywhere()
        self.drag([(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)])

    def candidate(self) -> None:
        self.window.candidates.step(int(self.rng.choice([-1, 1])))

    def transform(self) -> None:
        from PySide6.QtCore import Qt
        from app.canvas import Tool

        self.window.set_tool(Tool.TRANSFORM)
        handles = self.window.canvas._handle_positions()
        if handles and self.rng.random() < 0.6:
            start = list(handles.values())[self.rng.integers(len(handles))]
            x, y = start.x(), start.y()
        else:
            x, y = self.on_shape() if self.rng.random() < 0.8 else self.anywhere()
        dx, dy = self.rng.normal(0, 25, 2)
        modifiers = (Qt.NoModifier, Qt.ShiftModifier, Qt.ControlModifier)[self.rng.integers(3)]
        self.drag([(x, y), (x + dx / 2, y + dy / 2), (x + dx, y + dy)], modifiers)

    def nudge(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from app.canvas import Tool

        self.window.set_tool(Tool.TRANSFORM)
        self.window.canvas.setFocus()
        key = (Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down)[self.rng.integers(4)]
        QTest.keyClick(self.window.canvas, key, Qt.ShiftModifier if self.rng.random() < 0.3 else Qt.NoModifier)

    def brush(self) -> None:
        from app.canvas import Tool

        self.window.set_tool(Tool.BRUSH if self.rng.random() < 0.6 else Tool.ERASER)
        x, y = self.on_shape()
        points = [(x, y)]
        for _ in range(4):
            x, y = x + self.rng.normal(0, 8), y + self.rng.normal(0, 8)
            points.append((x, y))
        self.drag(points)

    def warp(self) -> None:
        from app.canvas import Tool

        self.window.set_tool(Tool.WARP)
        pins = self.window.warp.pins
        chance = self.rng.random()
        if chance < 0.4 or not pins:
            self.drag([self.on_shape()])  # a pin placed
        else:  # a pin dragged, or a new one placed and dragged at once
            x, y = pins[self.rng.integers(len(pins))] if chance < 0.8 else self.on_shape()
            dx, dy = self.rng.normal(0, 15, 2)
            self.drag([(x, y), (x + dx / 2, y + dy / 2), (x + dx, y + dy)])

    def mask_tool(self) -> None:
        tools = self.window.mask_tools
        actions = [action for action in (tools.grow_action, tools.shrink_action, tools.smooth_action, tools.fill_action,
                                         tools.invert_action) if action.isEnabled()]
        if actions:
            actions[self.rng.integers(len(actions))].trigger()

    def apply(self) -> None:
        window = self.window
        if not window.apply_action.isEnabled():
            return
        before, region, target = window.session.current.copy(), window.region.copy(), window.target_mask().copy()
        window.apply_action.trigger()
        if self.applied(before):
            self.check_local(before, region, target, "Apply")

    def remove(self) -> None:
        window = self.window
        if not window.remove_action.isEnabled():
            return
        before, region = window.session.current.copy(), window.region.copy()
        window.remove_action.trigger()
        if self.applied(before):  # (a region that is the whole painting stays)
            assert not window.region.any(), "Remove: the region is still selected"
            self.check_local(before, region, region, "Remove")

    def undo(self) -> None:
        (self.window.undo_action if self.rng.random() < 0.7 else self.window.redo_action).trigger()

    def history(self) -> None:
        rows = self.window.history.count()
        if rows:
            self.window.sessions.go_to_step(int(self.rng.integers(rows)))

    def clear(self) -> None:
        (self.window.clear_action if self.rng.random() < 0.5 else self.window.reset_action).trigger()

    def restyle(self) -> None:
        window, tool = self.window, self.window.restyle
        if not tool.dock.isVisible():
            tool.action.setChecked(True)
            return
        draw = self.rng.random()
        if draw < 0.3:
            tool.picker.start_picking()
            self.drag([self.anywhere()])
        elif draw < 0.45:
            tool.picker.use_selection_as_exemplar()
        elif draw < 0.6:
            tool.panel.strength_slider.setValue(int(self.rng.integers(0, 101)))
        elif draw < 0.85:
            if tool.panel.apply_button.isEnabled():
                before, region = window.session.current.copy(), window.region.copy()
                tool.panel.apply_button.click()
                if self.applied(before):
                    self.check_local(before, region, region, "Apply Restyle")
        else:
            tool.action.setChecked(False)

    def save_reopen(self) -> None:
        window = self.window
        path = self.scratch / f"session{self.rng.integers(3)}.simnet"
        if window.sessions.save_to(path):
            self.idle()
            shown = window.session.current.copy()
            window.session = None
            assert window.open_session(path), "the saved session did not open"
            self.idle()
            assert np.array_equal(window.session.current, shown), "the reopened session shows another painting"

    def applied(self, before: np.ndarray) -> bool:
        """After an Apply started: whether it changed the painting from ``before``, once it is done; False at once
        when this step hurries on (its checks then wait for the next calm step)."""
        if self.hurried:
            return False
        self.idle()
        return not np.array_equal(self.window.session.current, before)

    # -- what must hold ----------------------------------------------------------------------------
    def check_local(self, before: np.ndarray, region: np.ndarray, target: np.ndarray, what: str) -> None:
        from engine.locality import default_reach

        window = self.window
        after = window.session.current.copy()
        changed = (after != before).reshape(after.shape[0], after.shape[1], -1).any(-1)
        reach = int(np.ceil(default_reach(region, target, max(region.shape)))) + 2
        kernel = np.ones((2 * reach + 1, 2 * reach + 1), np.uint8)
        allowed = cv2.dilate((region | target).view(np.uint8), kernel) > 0
        assert not (changed & ~allowed).any(), f"{what}: {int((changed & ~allowed).sum())} px changed beyond the reach"
        if self.rng.random() < 0.4:
            window.undo_action.trigger()
            self.idle()
            assert np.array_equal(window.session.current, before), f"{what}: undo did not give the painting back"
            window.redo_action.trigger()
            self.idle()
            assert np.array_equal(window.session.current, after), f"{what}: redo did not give the result back"

    def settle(self) -> None:
        """Wait until the workers are done with the steps before, then check what must hold."""
        if not self.idle():
            raise AssertionError(f"the workers were still busy after {IDLE_TIMEOUT:.0f} s")
        self.check()

    def check(self) -> None:
        window = self.window
        document = window.document
        shape = (self.height, self.width)
        assert document.region.shape == shape and document.target.shape == shape, "a mask changed size"
        assert window.session.current.shape[:2] == shape, "the painting changed size"
        if window.history.count() and window.history.currentRow() == 0:
            assert np.array_equal(window.session.current, window.session.original), "Original shows another painting"

    def run(self, steps: int, report: Callable[[str], None] = print) -> list[str]:
        """``steps`` random actions; the actions taken (the last one failed when ``self.failures`` is not empty)."""
        names = list(self.weights)
        weights = np.array([self.weights[name] for name in names], float)
        taken: list[str] = []
        for step in range(steps):
            name = names[self.rng.choice(len(names), p=weights / weights.sum())]
            taken.append(name)
            self.hurried = self.hurry > 0 and self.rng.random() < self.hurry
            try:
                if not self.hurried:
                    self.settle()
                getattr(self, name)()
                if step == steps - 1:
                    self.settle()
                else:
                    self.app.processEvents()
            except Exception:  # noqa: BLE001 - every failure is reported with its step
                self.failures.append(f"step {step} ({name}): {traceback.format_exc()}")
            if self.failures or self.errors_shown():
                break
        report(f"{len(taken)} steps: " + ", ".join(f"{name} {count}" for name, count in Counter(taken).most_common()))
        return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--size", default="160x220", metavar="HxW",
                        help="the painting's size (e.g. 12x12 or 6x300: canvases too small for the fill's patches)")
    parser.add_argument("--hurry", type=float, default=0.0, metavar="P",
                        help="the chance (0-1) that an action follows the last one at once, not waiting for its work "
                             "(an Apply, a segmentation, a preview) to finish; the checks run at the next calm step")
    parser.add_argument("--weight", action="append", default=[], metavar="ACTION=W",
                        help=f"how often an action is drawn, in place of its default (repeatable; actions: "
                             f"{', '.join(WEIGHTS)})")
    args = parser.parse_args(argv)
    height, width = (int(value) for value in args.size.lower().split("x"))
    weights = {}
    for item in args.weight:
        name, _, value = item.partition("=")
        if name not in WEIGHTS:
            parser.error(f"--weight {item}: no action {name!r}; actions: {', '.join(WEIGHTS)}")
        try:
            weights[name] = float(value)
        except ValueError:
            parser.error(f"--weight {item}: the weight is not a number")
    scratch = Path(tempfile.mkdtemp(prefix="simnet-monkey-"))
    isolate_user_state(scratch)

    from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox

    application = QApplication.instance() or QApplication([])
    errors: list[str] = []
    sys.excepthook = lambda kind, value, trace: errors.append("".join(traceback.format_exception(kind, value, trace)))
    shown: list[str] = []  # the errors the editor showed in a dialog

    def answer(result, error: bool):
        def show(parent, title, text="", *args, **kwargs):
            if error:
                shown.append(f"{title}: {text}")
            return result
        return staticmethod(show)

    QMessageBox.warning, QMessageBox.critical = answer(QMessageBox.Cancel, True), answer(QMessageBox.Ok, True)
    QMessageBox.information, QMessageBox.question = answer(QMessageBox.Ok, False), answer(QMessageBox.No, False)
    QInputDialog.getInt = staticmethod(lambda *args, **kwargs: (3, True))
    QFileDialog.getOpenFileName = QFileDialog.getSaveFileName = staticmethod(lambda *args, **kwargs: ("", ""))

    from app.main_window import MainWindow
    from engine.imageio import save_image

    path = scratch / "painting.png"
    save_image(path, painting(height, width))
    window = MainWindow()
    window.resize(1000, 700)
    window.show()
    if not window.open_image(path):
        print("the painting did not open")
        return 1
    window.canvas.fit()
    monkey = Monkey(application, window, args.seed, scratch, args.hurry, weights)
    monkey.errors_shown = lambda: len(shown) + len(errors)
    taken = monkey.run(args.steps)
    failures = monkey.failures + [f"an exception reached the event loop:\n{error}" for error in errors]
    failures += [f"an error was shown: {text}" for text in shown]
    window.session = None
    window.shutdown_workers()
    if failures:
        print("the last steps:", ", ".join(taken[-12:]))
        print(failures[0])
        return 1
    print("nothing failed")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # Qt's objects are not torn down one by one: the run is over
