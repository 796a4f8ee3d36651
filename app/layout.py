"""The editor window's actions, menus and tool bars: which command each action runs and where it is shown.

The slots are the window's and its controllers' (the Mask menu's actions are the controllers'
own); this module only names and lays them out, so the window's class stays a thin shell.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLabel, QSlider, QToolBar

from app.canvas import Tool
from app.recent_menu import RecentFilesMenu

if TYPE_CHECKING:
    from app.main_window import MainWindow


def build_actions(window: "MainWindow") -> None:
    """The window's actions (text, shortcut, slot), then the menus and tool bars that show them."""
    a, w, key = window._action, window, QKeySequence
    sessions, edits, selection, canvas = w.sessions, w.edits, w.selection, w.canvas
    w.open_action = a("&Open Image…", sessions.choose_image, key.Open, "Open an artwork")
    w.open_session_action = a("Open &Session…", sessions.choose_session, key("Ctrl+Shift+O"),
                              "Reopen a saved session")
    w.save_action = a("&Save Session", sessions.save, key.Save, "Save the session (original, every step, masks)")
    w.save_as_action = a("Save Session &As…", sessions.save_as, key.SaveAs, "Save the session to a new file")
    w.export_action = a("&Export Image…", lambda: w.exporter.export_image(), key("Ctrl+E"),
                        "Export the result at full resolution")
    w.export_masks_action = a("Export &Masks…", w.exporter.export_masks, None,
                              "Export the region and target masks as PNG")
    w.quit_action = a("&Quit", w.close, key("Ctrl+Q"))
    w.undo_action = a("&Undo", sessions.undo, key.Undo, "Undo the last stroke or edit")
    w.redo_action = a("&Redo", sessions.redo, [key("Ctrl+Shift+Z"), key("Ctrl+Y")], "Redo")
    w.clear_action = a("&Clear Selection", selection.clear_selection, key("Esc"), "Forget the selected region")
    w.reset_action = a("Rese&t Shape", selection.reset_shape, key("Ctrl+R"), "Reset the target mask to the region")
    w.apply_action = a("&Apply", edits.apply, [key("Ctrl+Return"), key("Ctrl+Enter")],
                       "Reshape the region at full resolution")
    w.remove_action = a("Re&move Selection", edits.remove, [key("Delete"), key("Backspace")],
                        "Remove the region: its place filled from the painting around it")
    w.cancel_action = a("Ca&ncel", edits.cancel, key("Ctrl+."), "Cancel the running edit")
    w.settings_action = a("&Settings…", w.edit_settings, key("Ctrl+,"), "SAM checkpoint, device and resampling")
    w.fit_action = a("&Fit to Window", canvas.fit, key("Ctrl+0"))
    w.actual_action = a("&Actual Size (100 %)", canvas.actual_size, key("Ctrl+1"))
    w.zoom_in_action = a("Zoom &In", lambda: canvas.zoom_by(1.25), [key(key.ZoomIn), key("Ctrl+=")])
    w.zoom_out_action = a("Zoom &Out", lambda: canvas.zoom_by(0.8), key.ZoomOut)
    w.compare_action = a("Side-by-side &Compare", w.toggle_compare, key("Ctrl+K"),
                         "Show the original beside the result", checkable=True)
    w.tool_actions = {
        Tool.SELECT: a("Se&lect", lambda: w.set_tool(Tool.SELECT), key("S"),
                       "Click a region to add it to the selection (right/Alt-click removes), or drag a box", True),
        Tool.BRUSH: a("&Brush", lambda: w.set_tool(Tool.BRUSH), key("B"),
                      "Paint the new shape ([ and ] change the size)", True),
        Tool.ERASER: a("&Eraser", lambda: w.set_tool(Tool.ERASER), key("E"), "Erase from the new shape", True),
        Tool.TRANSFORM: a("&Transform", lambda: w.set_tool(Tool.TRANSFORM), key("T"),
                          "Move (drag inside), scale (corners) or rotate (top knob) the new shape", True),
        Tool.WARP: a("&Warp", lambda: w.set_tool(Tool.WARP), key("W"),
                     "Pin the new shape (click) and drag a pin: it bends around the other pins (right-click "
                     "takes a pin away)", True),
    }
    w.smaller_brush = a("Smaller Brush", lambda: w.change_brush(1 / 1.25), key("["))
    w.larger_brush = a("Larger Brush", lambda: w.change_brush(1.25), key("]"))
    w.shortcuts_action = a("&Keyboard and Mouse…", w.show_shortcuts, key("F1"), "Every key and gesture of the editor")
    w.about_action = a("&About", w.about)

    build_menus(w)
    build_tool_bars(w)
    for slider in (w.size_slider, w.hardness_slider):
        slider.valueChanged.connect(w._brush_from_sliders)


def build_menus(window: "MainWindow") -> None:
    """File, Edit, View, Tools, Mask and Help."""
    menu = window.menuBar()
    file_menu = menu.addMenu("&File")
    for action in (window.open_action, window.open_session_action):
        file_menu.addAction(action)
    window.recent_menu = RecentFilesMenu(window.settings, window.sessions.open_in_background, window)
    file_menu.addMenu(window.recent_menu)
    for action in (None, window.save_action, window.save_as_action, None, window.export_action,
                   window.export_masks_action, None, window.quit_action):
        file_menu.addSeparator() if action is None else file_menu.addAction(action)
    edit_menu = menu.addMenu("&Edit")
    for action in (window.undo_action, window.redo_action, None, window.apply_action, window.remove_action,
                   window.cancel_action, None,
                   window.clear_action, window.reset_action, None, window.settings_action):
        edit_menu.addSeparator() if action is None else edit_menu.addAction(action)
    view_menu = menu.addMenu("&View")
    for action in (window.fit_action, window.actual_action, window.zoom_in_action, window.zoom_out_action, None,
                   window.compare_action, window.history_dock.toggleViewAction()):
        view_menu.addSeparator() if action is None else view_menu.addAction(action)
    tools_menu = menu.addMenu("&Tools")
    for action in (*window.tool_actions.values(), window.restyle.action, None, window.smaller_brush,
                   window.larger_brush):
        tools_menu.addSeparator() if action is None else tools_menu.addAction(action)
    window.mask_menu = menu.addMenu("&Mask")
    for controller in (window.candidates, window.mask_tools):
        controller.add_to(window.mask_menu)
    help_menu = menu.addMenu("&Help")
    for action in (window.shortcuts_action, window.about_action):
        help_menu.addAction(action)


def build_tool_bars(window: "MainWindow") -> None:
    """The commands on one row; the tools' options (brush size and hardness, Reach) on a row of their own."""
    bar = QToolBar("Tools", window)
    bar.setObjectName("tools")
    window.addToolBar(bar)
    for action in (window.open_action, window.save_action, window.export_action):
        bar.addAction(action)
    bar.addSeparator()
    for action in (*window.tool_actions.values(), window.restyle.action):
        bar.addAction(action)
    bar.addSeparator()
    for action in (window.undo_action, window.redo_action, window.reset_action, window.apply_action,
                   window.cancel_action):
        bar.addAction(action)

    # The tools' options on a row of their own, so the commands above never overflow.
    window.addToolBarBreak()
    options = QToolBar("Tool Options", window)
    options.setObjectName("tool_options")
    window.addToolBar(options)
    options.addWidget(QLabel(" Size "))
    window.size_slider = QSlider(Qt.Horizontal, minimum=1, maximum=500, value=40)
    window.size_slider.setFixedWidth(110)
    window.size_slider.setToolTip("Brush size in image pixels ([ and ])")
    options.addWidget(window.size_slider)
    options.addWidget(QLabel(" Hardness "))
    window.hardness_slider = QSlider(Qt.Horizontal, minimum=5, maximum=100, value=100)
    window.hardness_slider.setFixedWidth(80)
    window.hardness_slider.setToolTip("Brush hardness: 100 % paints exactly the brush's footprint; lower values "
                                      "smooth the outline of each stroke")
    options.addWidget(window.hardness_slider)
    options.addSeparator()
    window.reach.add_to(options)
    window.options_bar = options
