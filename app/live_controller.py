"""The painting follows the hand: while a Transform handle is dragged, the canvas shows the edit.

As soon as a region is selected (and whenever the image or the masks change), the engine prepares
on this controller's own worker what does not depend on the new shape (``engine.live_preview``):
the region's layer and the plate, the painting with the region's footprint filled, at the
resolution the painting is shown at, and the full-resolution fill that Apply reuses. Each mouse
move of a drag then asks the engine for one frame (a few milliseconds at screen resolution) and
shows it. A plate belongs to one image version and one region; a stale one is never used.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from app.canvas import CanvasView
from app.convert import array_to_qimage
from app.workspace import Workspace
from engine.document import Document
from engine.live_preview import (FootprintFill, LivePlate, PlateFill, PlateKey, bent_frame, drag_affine, fits,
                                 live_frame, prepare_live, shape_affine, then)
from engine.masks import region_hash
from engine.worker import Worker

#: The live frame is made at least this many pixels a side, however far the canvas is zoomed out.
MIN_LIVE_SIDE = 640
#: A new zoom is taken up this long after the last wheel notch.
ZOOM_SETTLE_MS = 300


@dataclass(frozen=True)
class _Prepared:
    """The document, image version and masks that the plate and the placement were prepared for.
    Masks are compared by identity: the document replaces its mask arrays on every change and never
    edits them in place, so an identical array is an unchanged mask."""

    document: Document
    image_version: int
    region: np.ndarray
    target: np.ndarray
    placement: np.ndarray  # forward affine carrying the region onto the new shape ``target``


class LiveController(QObject):
    #: A live frame was shown on the canvas.
    frame_shown = Signal()
    #: A plate is ready for the current region (live frames can be shown).
    ready = Signal()

    def __init__(self, workspace: Workspace, canvas: CanvasView) -> None:
        super().__init__(workspace)
        self.workspace, self.canvas, self.bridge = workspace, canvas, workspace.bridge
        self.document: Callable[[], Document | None] = lambda: workspace.document
        self.worker = Worker("simnet-live")
        self.plate: LivePlate | None = None
        self._prepared: _Prepared | None = None
        self._drag: tuple[tuple[float, float], np.ndarray] | None = None
        self._bending = False  # a Warp drag is showing frames
        self._placements: dict[tuple[str, str], np.ndarray] = {}  # (region, new shape) hashes -> affine
        self._next_placement: np.ndarray | None = None
        #: Live frames shown in all, and during the last drag.
        self.frames = self.drag_frames = self._frames_at_press = 0
        canvas.transform_started.connect(self.begin_drag)
        canvas.transform_moved.connect(self.show_frame)
        canvas.transform_finished.connect(self.end_drag)
        workspace.masks_shown.connect(self.refresh)
        workspace.document_replaced.connect(self.forget)
        # A plate for the new zoom, once the wheel has stopped (its full-resolution fill is kept).
        self.zoom_timer = QTimer(self, singleShot=True, interval=ZOOM_SETTLE_MS)
        self.zoom_timer.timeout.connect(self._zoom_settled)
        canvas.zoom_changed.connect(lambda zoom: self.zoom_timer.start())

    # -- preparing ---------------------------------------------------------------------------------
    def screen_side(self, shape: tuple[int, int]) -> int:
        """The painting's longer side in screen pixels at the canvas's zoom (at most its own)."""
        ratio = self.canvas.devicePixelRatioF()
        return min(max(shape), max(MIN_LIVE_SIDE, round(max(shape) * self.canvas.zoom * ratio)))

    def refresh(self) -> None:
        """The image, the masks or the zoom changed: prepare the plate (unless it still holds) and the
        region's placement on the new shape, in the background. A first plate, its footprint filled
        on the screen grid, comes within a fraction of a second; the full-resolution fill follows."""
        document = self.document()
        if document is None or not document.region.any():
            self.worker.cancel_all()
            self._prepared = None
            return
        image, region, target = document.lend_image(), document.region, document.target
        version, side = document.image_version, self.screen_side(region.shape)
        plate = self.plate if self._prepared is not None and self._prepared.document is document else None
        hint, self._next_placement = self._next_placement, None
        placements = self._placements

        def deliver(fresh: LivePlate, placement: np.ndarray, pair: tuple[str, str]) -> None:
            if document is not self.document():
                return
            self._placements[pair] = placement
            self.plate, self._prepared = fresh, _Prepared(document, version, region, target, placement)
            self.ready.emit()

        quick = self.bridge.wrap(deliver)

        def run(token):
            key = PlateKey(version, region_hash(region))
            pair = (key.region_hash, region_hash(target))
            placement = placements.get(pair)
            if placement is None:
                placement = hint if hint is not None and fits(region, target, hint) else shape_affine(region, target)
            if plate is not None and plate.key == key and plate.side == side and plate.fill is not None:
                return plate, placement, pair
            earlier = plate.fill if plate is not None and plate.key == key else None
            return prepare_live(image, region, key, side, cancel=token, fill=earlier,
                                quick=lambda first: quick(first, placement, pair)), placement, pair

        def done(outcome) -> None:
            document.return_image(image)
            fresh, placement, pair = outcome
            if fresh is not None:
                deliver(fresh, placement, pair)

        self.worker.submit(run, on_done=self.bridge.wrap(done),
                           on_error=self.bridge.wrap(lambda error: document.return_image(image)),
                           on_cancelled=self.bridge.wrap(lambda: document.return_image(image)))

    def _zoom_settled(self) -> None:
        if self.plate is not None and self.document() is not None:
            if self.screen_side(self.plate.shape) != self.plate.side:
                self.refresh()

    def _plate_current(self) -> bool:
        """The plate was made from the document's current image and region."""
        document, prepared = self.document(), self._prepared
        return (prepared is not None and document is prepared.document and self.plate is not None
                and document.region is prepared.region and document.image_version == prepared.image_version)

    # -- what Apply and the preview reuse ----------------------------------------------------------
    def full_fill(self) -> FootprintFill | None:
        """The full-resolution fill of the selected region's footprint, when it is not stale."""
        return self.plate.fill if self._plate_current() else None

    def preview_fill(self) -> tuple[int, PlateFill] | None:
        """The plate's side and its fill for a preview made on the plate's grid, when not stale."""
        return (self.plate.side, PlateFill(self.plate)) if self._plate_current() else None

    # -- dragging ----------------------------------------------------------------------------------
    def begin_drag(self, centre_x: float, centre_y: float) -> None:
        document, prepared = self.document(), self._prepared
        current = self._plate_current() and document.target is prepared.target
        self._drag = ((centre_x, centre_y), prepared.placement) if current else None
        self._frames_at_press = self.frames

    def show_frame(self, dx: float, dy: float, scale_x: float, scale_y: float, angle: float, turned: float) -> None:
        """One frame of the drag: the region carried by the transform so far, over the plate (``turned``: the
        frame the scales run along, as the canvas's transform_moved gives it)."""
        if self._drag is None or self.plate is None:
            return
        centre, placement = self._drag
        drag = drag_affine(centre, dx, dy, scale_x, angle, scale_y=scale_y, frame_degrees=turned)
        frame = live_frame(self.plate, then(placement, drag))
        x0, y0, _, _ = frame.box
        step = 1.0 / frame.scale
        self.canvas.show_patch(array_to_qimage(frame.patch), x0, y0, step, step)
        self.frames += 1
        self.frame_shown.emit()

    def show_bent(self, reads: Callable[[np.ndarray], np.ndarray], landed: tuple[int, int, int, int]) -> bool:
        """One frame of a Warp drag: the region carried by the backward map ``reads`` (image points of the new
        shape to where they were in the region), landing within ``landed``; False when no plate is ready for
        the current image and region (the Warp tool then bends the outline alone)."""
        if not self._plate_current():
            return False
        if not self._bending:  # the first frame of this drag
            self._bending, self._frames_at_press = True, self.frames
        frame = bent_frame(self.plate, reads, landed)
        x0, y0, _, _ = frame.box
        step = 1.0 / frame.scale
        self.canvas.show_patch(array_to_qimage(frame.patch), x0, y0, step, step)
        self.frames += 1
        self.frame_shown.emit()
        return True

    def end_bend(self) -> None:
        """A Warp drag ended: as :meth:`end_drag`, without a placement (the pins give the motion)."""
        self.drag_frames, self._frames_at_press = self.frames - self._frames_at_press, self.frames
        self._bending = False

    def end_drag(self, dx: float, dy: float, scale_x: float, scale_y: float, angle: float, turned: float) -> None:
        """The drag ended: the new shape's placement is the drag's affine after the old placement
        (the masks alone could not tell a turn of a symmetric region from none)."""
        self.drag_frames, self._frames_at_press = self.frames - self._frames_at_press, self.frames
        if self._drag is not None:
            centre, placement = self._drag
            drag = drag_affine(centre, dx, dy, scale_x, angle, scale_y=scale_y, frame_degrees=turned)
            self._next_placement = then(placement, drag)
        self._drag = None

    def forget(self) -> None:
        """A new document: nothing prepared for the old one is kept."""
        self.worker.cancel_all()
        self.plate, self._prepared, self._drag, self._bending = None, None, None, False
        self._placements.clear()

    def shutdown(self, timeout: float = 2.0) -> None:
        self.zoom_timer.stop()  # a pending refresh would otherwise fire into the stopped worker
        self.worker.shutdown(timeout)
