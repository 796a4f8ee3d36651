"""The editor window's menus and tool bars: where each action of :class:`app.main_window.MainWindow` is shown.

The actions themselves (text, shortcut, slot) are made by the window and its controllers; this
module only lays them out, so the window's class stays a thin shell.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSlider, QToolBar

if TYPE_CHECKING:
    from app.main_window import MainWindow


def build_menus(window: "MainWindow") -> None:
    """File, Edit, View, Tools, Mask and Help."""
    menu = window.menuBar()
    file_menu = menu.addMenu("&File")
    for action in (window.open_action, window.open_session_action, None, window.save_action, window.save_as_action,
                   None, window.export_action, window.export_masks_action, None, window.quit_action):
        file_menu.addSeparator() if action is None else file_menu.addAction(action)
    edit_menu = menu.addMenu("&Edit")
    for action in (window.undo_action, window.redo_action, None, window.apply_action, window.cancel_action, None,
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
    menu.addMenu("&Help").addAction(window.about_action)


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
