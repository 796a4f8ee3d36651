"""Stepping through the candidates of the last click (part, object, larger region, a grown
answer): Tab and Shift+Tab, or Ctrl/Alt + the mouse wheel over the canvas. The status bar shows the candidate
shown, its size and its score. Each step is an undo step of the document (one for a run of steps).

Stepping below a click's smallest candidate asks for finer ones (``look_closer``: the selection controller's
closer look, in the background), once per click.

When the last click took the Restyle tool's exemplar (on the painting or on another image), the same keys
step that click's candidates instead (:class:`OtherClick`): the last click answers Tab.
"""
from __future__ import annotations

from typing import Callable, Protocol

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu

from app.canvas import CanvasView
from app.workspace import Workspace


class OtherClick(Protocol):
    """A click other than the selection's whose candidates Tab may step (the Restyle tool's exemplar)."""

    def is_last_click(self) -> bool:
        """This click came after the selection's last click (so Tab steps it)."""

    def can_step(self, steps: int) -> bool: ...

    def step(self, steps: int) -> None: ...

    def describe(self) -> str:
        """What the status bar says of the candidate taken, e.g. "exemplar: candidate 2/3 · …"."""


class CandidateController(QObject):
    def __init__(self, workspace: Workspace, canvas: CanvasView, make_action: Callable[..., QAction],
                 look_closer: Callable[[], bool] | None = None) -> None:
        super().__init__(workspace)
        self.workspace = workspace
        #: Below the smallest candidate: ask for finer ones (False when the click's candidates cannot).
        self.look_closer = look_closer
        #: Another click Tab steps while it is the last one (see :meth:`route_to`).
        self.other: OtherClick | None = None
        self.label = QLabel("")
        self.label.setToolTip("The candidate of the last click that is shown: Tab / Shift+Tab (or Ctrl+wheel) "
                              "show a larger / smaller one")
        # Enabled only while there are candidates, so Tab moves the keyboard focus otherwise.
        self.larger_action = make_action("&Larger Candidate", lambda: self.step(1), QKeySequence(Qt.Key_Tab),
                                            "Show the next larger candidate of the last click (Ctrl+wheel up)")
        self.smaller_action = make_action(
            "&Smaller Candidate", lambda: self.step(-1),
            [QKeySequence(Qt.SHIFT | Qt.Key_Tab), QKeySequence(Qt.SHIFT | Qt.Key_Backtab)],  # X11 sends Backtab
            "Show the next smaller candidate of the last click (Ctrl+wheel down)")
        canvas.candidate_step.connect(self.step)
        workspace.masks_shown.connect(self.show_choice)
        workspace.actions_changed.connect(self.show_choice)  # another click may have become the last one

    def add_to(self, menu: QMenu) -> None:
        menu.addAction(self.larger_action)
        menu.addAction(self.smaller_action)
        menu.addSeparator()

    def route_to(self, other: OtherClick) -> None:
        """Tab (and Ctrl+wheel) step ``other``'s candidates while it is the last click."""
        self.other = other

    def _other_last(self) -> OtherClick | None:
        other = self.other
        return other if other is not None and other.is_last_click() else None

    def update_actions(self) -> None:
        other = self._other_last()
        if other is not None:
            self.larger_action.setEnabled(other.can_step(1))
            self.smaller_action.setEnabled(other.can_step(-1))
            return
        document = self.workspace.document
        choice = document.candidate_choice if document is not None else None
        self.larger_action.setEnabled(choice is not None and (choice[1] is None or choice[1] < len(choice[0]) - 1))
        self.smaller_action.setEnabled(choice is not None and choice[1] is not None and (
            choice[1] > 0 or (self.look_closer is not None and choice[0].may_look_closer)))

    def show_choice(self) -> None:
        """The status bar names the candidate shown (nothing when the last step was not a click)."""
        other = self._other_last()
        if other is not None:
            self.label.setText(other.describe().capitalize())
            return
        document = self.workspace.document
        choice = document.candidate_choice if document is not None else None
        self.label.setText(choice[0].describe(choice[1]).capitalize() if choice is not None else "")

    def step(self, steps: int) -> None:
        """Show the candidate ``steps`` larger (negative: smaller) than the one shown."""
        workspace = self.workspace
        document = workspace.document
        if document is None or workspace.applying:
            return
        other = self._other_last()
        if other is not None:
            other.step(steps)
            return
        if document.candidate_choice is None:
            workspace.say("No candidates to step through: click a region first.")
            return
        if not document.step_candidate(steps):
            if steps < 0 and self.look_closer is not None and self.look_closer():
                return
            workspace.say("This is already the " + ("largest" if steps > 0 else "smallest") + " candidate.")
            return
        workspace.masks_replaced.emit()
        workspace.actions_changed.emit()
        workspace.say(("A larger" if steps > 0 else "A smaller") + " candidate is shown; Ctrl+Z goes back to "
                      "what the click showed.")
