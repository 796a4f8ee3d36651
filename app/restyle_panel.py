"""The Restyle tool's panel: its texts, buttons, sliders and the view of another painting, in a scroll
area that asks for the panel's whole height (as far as the window allows), above a footer that never scrolls
away (Strength, Apply and why nothing is previewed: what is used most once the exemplar is taken). It holds no
state of the restyle; ``app/restyle_controller.py`` connects its widgets and says what they show."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QSlider, QVBoxLayout, QWidget

from app.exemplar_view import ExemplarView

#: The panel takes at most this share of the window's height; past that it scrolls.
MAX_PANEL_SHARE = 0.6


def _button(text: str, slot: Callable, tip: str = "", checkable: bool = False) -> QPushButton:
    button = QPushButton(text)
    button.setCheckable(checkable)
    button.setToolTip(tip)
    (button.toggled if checkable else button.clicked).connect(slot)
    return button


def _needed_height(widget: QWidget) -> int:
    """The height ``widget``'s layout needs at its width now (widgets just shown or hidden, texts just changed)."""
    layout = widget.layout()
    layout.activate()
    return layout.totalHeightForWidth(widget.width()) if layout.hasHeightForWidth() else widget.sizeHint().height()


def _slider(value: int, tip: str, slot: Callable[[int], None]) -> QSlider:
    slider = QSlider(Qt.Horizontal, minimum=0, maximum=100, value=value)
    slider.setToolTip(tip)
    slider.valueChanged.connect(slot)
    return slider


class RestylePanel(QWidget):
    """``actions`` names the controller's slots: pick (toggled), use_selection, open_image, from_files, second
    (toggled), remove_second, mix (value), strength (value), apply; exemplar_clicked / exemplar_boxed for
    the view of another painting; and exemplar_step (+1 / -1: a larger / smaller candidate of the click that
    took the exemplar)."""

    def __init__(self, actions: dict[str, Callable]) -> None:
        super().__init__()
        self.exemplar_label = QLabel()
        self.exemplar_label.setWordWrap(True)
        # The click that took the exemplar: which of its candidates it is, and the neighbouring ones.
        self.candidate_label = QLabel()
        self.candidate_label.setWordWrap(True)
        self.smaller_button = _button("Smaller", lambda: actions["exemplar_step"](-1),
                                      "Take the click's next smaller candidate as the exemplar instead")
        self.larger_button = _button("Larger", lambda: actions["exemplar_step"](1),
                                     "Take the click's next larger candidate as the exemplar instead")
        self.candidate_row = QWidget()
        row = QHBoxLayout(self.candidate_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.smaller_button)
        row.addWidget(self.larger_button)
        self.pick_button = _button("Pick Exemplar on Painting", actions["pick"],
                                   "Then click the exemplar region on the painting, or drag a box around it; "
                                   "the selection stays", checkable=True)
        self.use_selection_button = _button("Use Selection as Exemplar", actions["use_selection"])
        self.open_image_button = _button("Open Exemplar Image…", actions["open_image"],
                                         "Open another painting here, then click or drag a box on it")
        self.exemplar_view = ExemplarView()
        self.exemplar_view.clicked.connect(actions["exemplar_clicked"])
        self.exemplar_view.boxed.connect(actions["exemplar_boxed"])
        self.from_files_button = _button("Exemplar from Files…", actions["from_files"],
                                         "An image and its region's mask file (white = region)")
        self.second_button = _button("Add Second Exemplar", actions["second"],
                                     "The next exemplar taken (on the painting, from the selection, in another "
                                     "image or from files) is a second one, mixed with the first by Mix",
                                     checkable=True)
        self.remove_second_button = _button("Remove Second Exemplar", actions["remove_second"])
        self.mix_label = QLabel("Mix 50 %")
        self.mix_slider = _slider(50, "0 %: the first exemplar's style only; 100 %: the second's only", actions["mix"])
        self.strength_label = QLabel("Strength 100 %")
        self.strength_slider = _slider(100, "0 %: the region as it is; 100 %: the exemplar's style",
                                       actions["strength"])
        self.apply_button = _button("Apply Restyle", actions["apply"])
        self.hint_label = QLabel()  # why nothing is previewed, when that is not obvious
        self.hint_label.setWordWrap(True)
        self.hint_label.hide()
        inner = QWidget()
        layout = QVBoxLayout(inner)
        for widget in (self.exemplar_label, self.candidate_label, self.candidate_row, self.pick_button,
                       self.use_selection_button, self.open_image_button, self.exemplar_view, self.from_files_button,
                       self.second_button, self.remove_second_button, self.mix_label, self.mix_slider):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)  # on a short screen the panel scrolls instead of squeezing its texts
        self.scroll.setFrameShape(QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(inner)
        self.footer = QWidget()
        footer = QVBoxLayout(self.footer)
        for widget in (self.strength_label, self.strength_slider, self.apply_button, self.hint_label):
            footer.addWidget(widget)
        whole = QVBoxLayout(self)
        whole.setContentsMargins(0, 0, 0, 0)
        whole.setSpacing(0)
        whole.addWidget(self.scroll, 1)
        whole.addWidget(self.footer)
        self.show_second(False)
        self.show_exemplar_candidate(None)

    def show_apply(self, preview_first: bool, enabled: bool) -> None:
        """The Apply button, or, where nothing is previewed because the artist has not asked since an Apply or an
        undo, the button that asks for the preview (``preview_first``)."""
        self.apply_button.setText("Preview Restyle" if preview_first else "Apply Restyle")
        self.apply_button.setToolTip("Restyle the selection as the painting now is, to look at before applying"
                                     if preview_first else "Restyle the selection at full resolution: one History step")
        self.apply_button.setEnabled(enabled)

    def show_second(self, has_second: bool) -> None:
        """Show the second exemplar's controls (Mix, Remove) while there is one."""
        for widget in (self.remove_second_button, self.mix_label, self.mix_slider):
            widget.setVisible(has_second)
        self.second_button.setText("Replace Second Exemplar" if has_second else "Add Second Exemplar")

    def show_exemplar_candidate(self, text: str | None, smaller: bool = False, larger: bool = False) -> None:
        """Name the candidate of the click that took the exemplar (None: hide the row: no click, or one with a
        single candidate), and enable the steps to a smaller or a larger one."""
        self.candidate_label.setText(f"From the click's {text}." if text else "")
        for widget in (self.candidate_label, self.candidate_row):
            widget.setVisible(bool(text))
        self.smaller_button.setEnabled(smaller)
        self.larger_button.setEnabled(larger)

    def show_hint(self, text: str | None) -> bool:
        """Say why nothing is previewed (None: nothing to say); True when the hint appeared or went."""
        changed = self.hint_label.isHidden() == bool(text)
        self.hint_label.setText(text or "")
        self.hint_label.setVisible(bool(text))
        return changed

    def fit(self, window_height: int) -> None:
        """Ask for the whole panel's height, at most MAX_PANEL_SHARE of ``window_height`` (the History beside it
        gives way; the footer always shows, the part above it scrolls), and for the width of its widest part (the
        other painting's view): it scrolls up and down only."""
        inner = self.scroll.widget()
        needed = _needed_height(inner) + _needed_height(self.footer)
        self.setMinimumHeight(min(needed, int(MAX_PANEL_SHARE * window_height)))
        self.setMinimumWidth(inner.minimumSizeHint().width() + self.scroll.verticalScrollBar().sizeHint().width())
