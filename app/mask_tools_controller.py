"""The Mask menu: grow, shrink, smooth the outline, fill holes, invert, load and save a mask file.
The mask math is engine.mask_tools; each tool is one undo step of the document.

Which mask a tool changes follows the brush and the transform: while the new shape is still the
region (after a click, before any reshaping) the tools change the selection, the region and the
new shape together; once the new shape is reshaped they change the new shape (red) alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QWidget

from app.file_filters import IMAGE_FILTER
from app.settings import Settings
from app.workspace import Workspace
from engine import mask_tools
from engine.errors import SimNetError


def default_radius(shape: tuple[int, int]) -> int:
    """A radius the eye notices on this painting: half a percent of its longer side, at least 2 px."""
    return max(2, round(0.005 * max(shape)))


class MaskToolsController(QObject):
    def __init__(self, workspace: Workspace, settings: Settings, make_action: Callable[..., QAction],
                 dialog_parent: QWidget) -> None:
        super().__init__(workspace)
        self.workspace, self.settings, self.dialog_parent = workspace, settings, dialog_parent
        self._radii: dict[str, int] = {}  # the last radius given to each tool, offered again
        a = make_action
        self.grow_action = a("&Grow…", lambda: self._with_radius("Grow", mask_tools.grow), None,
                             "Grow the selection (or the reshaped new shape) by a number of pixels")
        self.shrink_action = a("S&hrink…", lambda: self._with_radius("Shrink", mask_tools.shrink), None,
                               "Shrink the selection (or the reshaped new shape) by a number of pixels")
        self.smooth_action = a("Sm&ooth Outline…", lambda: self._with_radius("Smooth", mask_tools.smooth), None,
                               "Round off the outline (masks stay sharp-edged: the Reach is the edit's soft edge)")
        self.fill_action = a("&Fill Holes", lambda: self.apply("Fill Holes", mask_tools.fill_holes), None,
                             "Add the parts the mask encloses")
        self.invert_action = a("&Invert", lambda: self.apply("Invert", mask_tools.invert),
                               QKeySequence("Ctrl+Shift+I"), "Select everything that is not selected")
        self.load_action = a("&Load Mask…", self.load, None, "Select the white part of a black-and-white image file")
        self.save_action = a("Sa&ve Mask…", self.save, None,
                             "Write the mask the tools act on as a black-and-white PNG")
        self.shape_actions = (self.grow_action, self.shrink_action, self.smooth_action, self.fill_action,
                              self.save_action)

    def add_to(self, menu: QMenu) -> None:
        for action in (*self.shape_actions[:4], self.invert_action, None, self.load_action, self.save_action):
            menu.addSeparator() if action is None else menu.addAction(action)

    def update_actions(self) -> None:
        document = self.workspace.document
        for action in (self.invert_action, self.load_action):
            action.setEnabled(document is not None)
        has_mask = document is not None and bool(self._acted_on().any())
        for action in self.shape_actions:
            action.setEnabled(has_mask)

    # -- the tools ---------------------------------------------------------------------------------
    def _acted_on(self) -> np.ndarray:
        document = self.workspace.document
        return document.region if document.mask_tools_act_on_region else document.target

    def _mask_name(self) -> str:
        return "Selection" if self.workspace.document.mask_tools_act_on_region else "New Shape"

    def _with_radius(self, verb: str, tool: Callable[[np.ndarray, int], np.ndarray]) -> None:
        document = self.workspace.document
        if document is None or self.workspace.applying:
            return
        offered = self._radii.get(verb, default_radius(document.session.shape))
        question = f"{verb} the {self._mask_name().lower()} by (pixels):"
        pixels, ok = QInputDialog.getInt(self.dialog_parent, verb, question,
                                         offered, 1, mask_tools.MAX_RADIUS, 1)
        if ok:
            self._radii[verb] = pixels
            self.apply(f"{verb} {pixels} px", lambda mask: tool(mask, pixels))

    def apply(self, label: str, tool: Callable[[np.ndarray], np.ndarray]) -> bool:
        """Run ``tool`` on the mask the tools act on, as one undo step named after it and that mask."""
        workspace = self.workspace
        document = workspace.document
        if document is None or workspace.applying:
            return False
        on_region, name = document.mask_tools_act_on_region, self._mask_name()
        try:
            changed = document.apply_mask_tool(tool, f"{label} ({name})")
        except SimNetError as error:
            workspace.fail(f"{label} failed", error)
            return False
        if not changed:
            workspace.say(f"{label}: the {name.lower()} did not change.")
            return False
        if on_region:
            workspace.masks_replaced.emit()
        else:
            workspace.target_reshaped.emit(False)
        workspace.actions_changed.emit()
        workspace.say(f"{label}: the {name.lower()} now has {int(self._acted_on().sum()):,} px (Ctrl+Z undoes it).")
        return True

    # -- mask files --------------------------------------------------------------------------------
    def load(self) -> None:
        document = self.workspace.document
        if document is None or self.workspace.applying:
            return
        path, _ = QFileDialog.getOpenFileName(self.dialog_parent, "Load mask", self.settings.last_folder, IMAGE_FILTER)
        if not path:
            return
        try:
            mask = mask_tools.read_mask_file(path, document.session.shape)
        except SimNetError as error:
            self.workspace.fail("Cannot load the mask", error)
            return
        self.apply(f"Load {Path(path).name}", lambda _: mask)

    def save(self) -> None:
        if self.workspace.document is None or not self._acted_on().any():
            return
        name = self._mask_name()
        suggested = Path(self.settings.last_folder or ".") / ("region_mask.png" if name == "Selection"
                                                              else "target_mask.png")
        path, _ = QFileDialog.getSaveFileName(self.dialog_parent, f"Save the {name.lower()} as a mask", str(suggested),
                                              "PNG image (*.png)")
        if not path:
            return
        if self.workspace.is_artwork(path):  # Qt's "replace it?" did not say what it was
            self.workspace.fail("Cannot save the mask", f"{path} is the artwork itself; choose another file")
            return
        try:
            written = mask_tools.write_mask_file(path, self._acted_on())
        except SimNetError as error:
            self.workspace.fail("Cannot save the mask", error)
            return
        self.settings.last_folder = str(written.parent)
        self.workspace.say(f"The {name.lower()} was saved to {written}")
