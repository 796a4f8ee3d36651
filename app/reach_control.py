"""The Reach control (tool options, next to the brush size) and the dotted outline of the band it sets.

The reach is the width in pixels of the transition band around the region and its new shape;
outside it an edit changes nothing. Auto (the default) is ``engine.locality.default_reach`` of the
masks, grown by how far the region stops short of its object's edge (``engine.matte.rim_shortfall``), shown
in pixels beside it. The band's area is traced by the engine on a worker
(``engine.edit_band``); this module only draws its outline, while the user sets the reach and
whenever a region and a new shape exist and the Select or Transform tool is active. The value is
kept in QSettings; it is a setting of the tool, not a step of the undo history.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSlider, QSpinBox, QToolBar

from app.canvas import CanvasView, Tool
from app.convert import polygons_to_path
from app.settings import Settings
from app.workspace import Workspace
from engine.edit_band import EditBand, edit_band
from engine.locality import MAX_REACH
from engine.worker import Worker

#: How long the band stays drawn after the user last changed the reach, with any tool.
SHOW_WHILE_SETTING_MS = 1500
#: Changes of the masks closer together than this are traced once.
TRACE_DELAY_MS = 40
REACH_TIP = ("Reach: the width in pixels of the transition band around the region and its new shape (the "
             "dotted outline). Outside it, an edit changes nothing. Auto picks the narrowest band that still "
             "blends cleanly.")


class ReachSpinBox(QSpinBox):
    """0 reads "Auto (N px)"; the first step up from Auto starts at N, not at 1 pixel. A number is all it takes:
    a letter key is left to the window's one-key shortcuts (B, E, T ... change the tool with the keyboard focus
    here too), and Return or Escape ends the entry (``entered``: the window gives the focus back to the canvas)."""

    entered = Signal()

    def __init__(self) -> None:
        super().__init__(minimum=0, maximum=int(MAX_REACH), suffix=" px")
        self.automatic: float | None = None
        self.show_automatic(None)

    def event(self, event) -> bool:  # noqa: D102
        if event.type() == QEvent.ShortcutOverride and event.text().isalpha() and \
                not event.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
            event.ignore()  # not wanted here: the shortcut map may take it
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:  # noqa: N802
        super().keyPressEvent(event)
        if event.key() in (Qt.Key_Return, Qt.Key_Enter, Qt.Key_Escape):
            self.entered.emit()

    def show_automatic(self, pixels: float | None) -> None:
        self.automatic = pixels
        self.setSpecialValueText("Auto" if pixels is None else f"Auto ({pixels:.0f} px)")

    def stepBy(self, steps: int) -> None:  # noqa: N802
        if self.value() == 0 and steps > 0 and self.automatic is not None:
            self.setValue(max(1, round(self.automatic)))
            return
        super().stepBy(steps)


class ReachControl(QObject):
    #: The user chose another reach (the window makes a new preview with it).
    changed = Signal()
    #: A new band outline was drawn (or hidden).
    band_updated = Signal()

    def __init__(self, workspace: Workspace, canvas: CanvasView, settings: Settings) -> None:
        super().__init__(workspace)
        self.workspace, self.canvas, self.settings = workspace, canvas, settings
        self.worker = Worker("simnet-band")
        self.band: EditBand | None = None
        # A band traced for a reach being set is shown for a moment once it arrives, however long
        # the trace took (a large region on a busy machine can take longer than the moment).
        self._show_on_arrival = False
        self.slider = QSlider(Qt.Horizontal, minimum=0, maximum=int(MAX_REACH))
        self.slider.setFixedWidth(90)
        self.spin = ReachSpinBox()
        self.spin.setMinimumWidth(104)
        for widget in (self.slider, self.spin):
            widget.setToolTip(REACH_TIP)
        reach = settings.reach
        self.spin.setValue(0 if reach is None else round(reach))
        self.slider.setValue(self.spin.value())
        self.slider.valueChanged.connect(self.spin.setValue)
        self.spin.valueChanged.connect(self._value_changed)
        self.spin.entered.connect(self.canvas.setFocus)
        self.slider.sliderPressed.connect(self._setting)
        self.slider.sliderReleased.connect(self._setting)
        self.trace_timer = QTimer(self, singleShot=True, interval=TRACE_DELAY_MS)
        self.trace_timer.timeout.connect(self._trace)
        self.setting_timer = QTimer(self, singleShot=True, interval=SHOW_WHILE_SETTING_MS)
        self.setting_timer.timeout.connect(self.update_visibility)
        workspace.masks_shown.connect(self.refresh)

    def add_to(self, bar: QToolBar) -> None:
        label = QLabel(" Reach ")
        label.setToolTip(REACH_TIP)
        bar.addWidget(label)
        bar.addWidget(self.slider)
        bar.addWidget(self.spin)

    @property
    def value(self) -> float | None:
        """The reach in pixels for the next edit; None means Auto (the default reach)."""
        return float(self.spin.value()) or None

    def set_value(self, reach: float | None) -> None:
        self.spin.setValue(0 if reach is None else round(reach))

    def _setting(self) -> None:
        """The user is setting the reach: draw the band, whatever the tool, for a moment."""
        self.setting_timer.start()
        self.update_visibility()

    def _value_changed(self, value: int) -> None:
        self.slider.setValue(value)
        self.settings.reach = self.value
        self._show_on_arrival = True
        self._setting()
        self.refresh()
        self.changed.emit()

    @property
    def being_set(self) -> bool:
        return self.slider.isSliderDown() or self.setting_timer.isActive()

    def refresh(self) -> None:
        """The masks or the reach changed: trace the band again (shortly, once for a burst of changes)."""
        self.trace_timer.start()

    def _trace(self) -> None:
        workspace = self.workspace
        region = workspace.region
        target = workspace.target if workspace.has_region else None
        if target is None or not target.any():
            self.worker.cancel_all()
            self._show(None)
            return
        reach = self.value
        image = workspace.document.session.current if workspace.document is not None else None

        def done(band: EditBand) -> None:
            if reach == self.value:  # not stale
                self._show(band)

        self.worker.submit(lambda token: edit_band(region, target, reach, image), on_done=workspace.bridge.wrap(done),
                           on_error=workspace.bridge.wrap(lambda error: workspace.say(f"Reach: {error}")))

    def _show(self, band: EditBand | None) -> None:
        self.band = band
        if self._show_on_arrival:
            self._show_on_arrival = False
            self.setting_timer.start()
        self.spin.show_automatic(band.default_reach if band is not None else None)
        self.canvas.band_outline.setPath(polygons_to_path(band.outline if band is not None else []))
        self.update_visibility()
        self.band_updated.emit()

    def update_visibility(self) -> None:
        """Draw the band while the reach is being set, or with the Select, Transform and Warp tools."""
        canvas = self.canvas
        wanted = self.band is not None and bool(self.band.outline) and (
            self.being_set or canvas.tool in (Tool.SELECT, Tool.TRANSFORM, Tool.WARP))
        canvas.set_band_outline(canvas.band_outline.path() if wanted else None)

    def shutdown(self) -> None:
        self.trace_timer.stop()  # a pending trace would otherwise fire into the stopped worker
        self.worker.shutdown(1.0)
