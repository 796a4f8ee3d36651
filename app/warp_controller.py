"""The Warp tool (W): pins on the new shape, as Puppet Warp pins a layer. A click places a pin (a right or
Alt click on one takes it away; a drag from where there is none places one and drags it); dragging a pin bends the new shape around the others
(:func:`engine.mask_warp.pin_warp`), one undo step a drag, and the preview follows as after a stroke. The pins
are the document's (``Document.pins``): they belong to the new shape they were placed on, so anything else that
changes it (a stroke, a transform, a new selection, an Apply) takes them away, and an undo puts back the pins of
the shape it returns to (a drag undone: the pins where they were before it)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject

from app.canvas import CanvasView
from app.convert import polygons_to_path
from app.live_controller import LiveController
from app.workspace import Workspace
from engine.document import StepKind
from engine.mask_warp import bend_outline, pin_warp, points_box
from engine.masks import outline_polygons
from engine.shape_motion import Pins, ShapeMotion

HINT = ("Pin placed. Pin the places that should stay, then drag a pin: the new shape bends around the others "
        "(one pin moves it; right-click takes a pin away).")


class WarpController(QObject):
    def __init__(self, workspace: Workspace, canvas: CanvasView, live: LiveController) -> None:
        super().__init__(workspace)
        self.workspace, self.canvas, self.live = workspace, canvas, live
        #: While a pin is dragged: the new shape's outline before the drag (bent on every move), its path, and how
        #: the shape came from the region (None: not by known moves; read once a drag, not on every move).
        self._dragging: tuple[list[np.ndarray], object, ShapeMotion | None] | None = None
        canvas.pin_added.connect(self.add_pin)
        canvas.pin_moved.connect(self.show_bend)
        canvas.pin_removed.connect(self.remove_pin)
        canvas.pin_dragged.connect(self.drag_pin)
        workspace.masks_shown.connect(self._show)

    def _target(self) -> np.ndarray | None:
        document = self.workspace.document
        return document.target if document is not None and document.target.any() else None

    @property
    def pins(self) -> list[tuple[float, float]]:
        document = self.workspace.document
        return list(document.pins) if document is not None else []

    def _show(self) -> None:
        self.canvas.set_pins(self.pins)

    def add_pin(self, x: float, y: float) -> None:
        if self._target() is None:
            self.workspace.say("Select a region first: the Warp tool's pins bend its new shape.")
            return
        self.workspace.document.place_pins(self.pins + [(x, y)])
        self._show()
        if len(self.pins) == 1:
            self.workspace.say(HINT)

    def remove_pin(self, index: int) -> None:
        pins = self.pins
        if 0 <= index < len(pins):
            self.workspace.document.place_pins(pins[:index] + pins[index + 1:])
            self._show()

    def _moved(self, index: int, x: float, y: float) -> list[tuple[float, float]]:
        """The pins with pin ``index`` at (x, y)."""
        pins = self.pins
        return pins[:index] + [(x, y)] + pins[index + 1:]

    def show_bend(self, index: int, x: float, y: float) -> None:
        """The canvas follows the hand: the new shape's outline bent as far as pin ``index`` is dragged."""
        target = self._target()
        if target is None or not 0 <= index < len(self.pins):
            return
        if self._dragging is None:
            self._dragging = (outline_polygons(target), self.canvas.target_outline.path(),
                              self.workspace.document.shape_motion)
        outline, _, known = self._dragging
        moved = self._moved(index, x, y)
        bent = bend_outline(outline, self.pins, moved)
        self.canvas.preview_target_outline(polygons_to_path(bent))
        if known is not None and bent:
            # The painting follows the hand: the region carried by all its moves so far and this drag.
            chain = known.then(Pins(tuple(self.pins), tuple(moved)))
            self.live.show_bent(chain.reads, points_box(np.concatenate(bent), 2))

    def _end_drag(self) -> None:
        """The drag is over: the new shape's fill (and, unless it is drawn anew, its outline) come back."""
        if self._dragging is not None:
            self.canvas.preview_target_outline(self._dragging[1])
            self._dragging = None
        self.canvas.preview_target_outline(None)

    def drag_pin(self, index: int, x: float, y: float) -> None:
        """Bend the new shape by pin ``index`` dragged to (x, y), the other pins held."""
        self._end_drag()
        self.live.end_bend()
        document, target = self.workspace.document, self._target()
        if document is None or target is None or self.workspace.applying or not 0 <= index < len(self.pins):
            self._show()
            return
        moved = self._moved(index, x, y)
        if moved == self.pins:  # a click on a pin, or where one was just placed: nothing bends
            self._unchanged()
            return
        bent = pin_warp(target, self.pins, moved)
        if not bent.any():
            self._unchanged()
            self.workspace.say("That bend takes the whole shape off the painting; the pin stays where it was.")
            return
        if document.change_target(bent, StepKind.WARP, "Warp", moved_by=Pins(tuple(self.pins), tuple(moved))):
            self._show()
            # After live frames, the last one stays until the refined preview replaces it.
            self.workspace.target_reshaped.emit(self.live.drag_frames > 0)
        else:
            self._unchanged()

    def _unchanged(self) -> None:
        """A drag that changed nothing: the pins as they were, and the preview of the shape as it is (the frames
        the drag showed, if any, are taken down and the preview made again; otherwise the preview stays)."""
        self._show()
        if self.live.drag_frames > 0:
            self.workspace.masks_replaced.emit()
