#!/usr/bin/env python3
"""Screenshots of SIM-Net Studio for the README: drive the editor through a whole edit on the shipped
*Starry Night* and grab the window after each step.

    .venv/bin/python tools/screenshots.py            # writes docs/screenshots/*.png

Without a display it re-runs itself under ``xvfb-run`` (apt-get install xvfb), so the editor is a
real X11 window, not the offscreen platform. It drives the window the way a user does: mouse
events on the canvas (a click on the big star, drags on the transform handles, a brush stroke),
the menu actions (Apply, Compare) and a click in the history panel. The edits come from the
shipped model, so the results change when ``resources/simnet.pt`` does: just run it again.

The star is selected with the default segmenter (the built-in one, ``resources/segmenter.pt``).
With the shipped checkpoint one click selects the star alone. An earlier checkpoint's answer also
took the sky above it, so when the click's selection reaches beyond a box around the star, the
tool does what a user would: Esc (Clear Selection), then a box dragged around the star. What the
click alone selected is kept outside the README folder, as ``02a-clicked.png``.
"""
from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples" / "starry_night.jpg"
OUT = ROOT / "docs" / "screenshots"
MAX_BYTES = 300_000
#: The big star of the sample (image pixels): a click at its centre, and the box a user drags
#: around it when the click's selection reaches beyond it.
STAR_CENTRE = (350, 350)
STAR_BOX = (275, 275, 425, 425)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the PNGs (default docs/screenshots)")
    parser.add_argument("--image", type=Path, default=SAMPLE, help="the artwork (default the shipped Starry Night)")
    parser.add_argument("--size", default="1200x760", help="window size, WxH")
    parser.add_argument("--checkpoint", type=Path, help="a SIM-Net checkpoint (default the shipped one)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for one edit")
    parser.add_argument("--keep-raw", action="store_true", help="also keep the grabs at full colour (in the temp folder)")
    parser.add_argument("--offscreen", action="store_true", help="use Qt's offscreen platform instead of Xvfb")
    return parser.parse_args()


def ensure_display(args: argparse.Namespace) -> None:
    """Re-run under xvfb-run when there is no X display (and Xvfb is installed)."""
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return
    if os.environ.get("DISPLAY"):
        os.environ["QT_QPA_PLATFORM"] = "xcb"
        return
    if shutil.which("xvfb-run") is None:
        sys.exit("screenshots: no display and no xvfb-run: apt-get install xvfb, or pass --offscreen")
    os.execvp("xvfb-run", ["xvfb-run", "-a", "-s", "-screen 0 1920x1200x24", sys.executable, __file__, *sys.argv[1:]])


def main() -> int:
    args = parse_args()
    ensure_display(args)
    sys.path.insert(0, str(ROOT))
    scratch = Path(tempfile.mkdtemp(prefix="simnet-shots-"))
    sys.path.insert(0, str(ROOT / "tools"))
    from editor_harness import isolate_user_state, pump as pump_events, wait_until as wait_events

    isolate_user_state(scratch)  # the user's own settings and autosaves stay untouched

    import numpy as np
    from PIL import Image
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtGui import QImage, QMouseEvent
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

    for name in ("warning", "information"):  # a surprise dialog must not block an unattended run
        setattr(QMessageBox, name, staticmethod(lambda parent, title, text, *rest, **kw: print(f"  [{title}] {text}")
                                                 or QMessageBox.Ok))

    from app.canvas import Tool
    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SIM-Net Studio")
    print(f"platform: {app.platformName()}")
    args.out.mkdir(parents=True, exist_ok=True)
    extra = Path(tempfile.gettempdir()) / "simnet-shots-extra"  # checks that are not for the README
    extra.mkdir(exist_ok=True)

    def pump(seconds: float = 0.0) -> None:
        pump_events(app, seconds)

    def wait_until(condition, what: str, timeout: float = 120.0) -> None:
        wait_events(app, condition, what, timeout)

    # The editor's own colours survive the palette exactly: outlines, handles, the brush cursor.
    from app.canvas import REGION_COLOUR, TARGET_COLOUR
    key_colours = [(c.red(), c.green(), c.blue()) for c in (REGION_COLOUR, REGION_COLOUR.lighter(120), TARGET_COLOUR)]
    key_colours += [(255, 255, 255), (0, 0, 0), (48, 48, 52)]

    def palette(picture: Image.Image, colours: int) -> Image.Image:
        base = picture.quantize(colors=colours - len(key_colours), method=Image.Quantize.MEDIANCUT)
        entries = base.getpalette()[: 3 * (colours - len(key_colours))] + [v for rgb in key_colours for v in rgb]
        holder = Image.new("P", (1, 1))
        holder.putpalette(entries + [0] * (768 - len(entries)))
        return picture.quantize(palette=holder, dither=Image.Dither.NONE)

    def save(widget: QWidget, name: str, folder: Path | None = None) -> Path:
        pump(0.3)
        image = widget.grab().toImage().convertToFormat(QImage.Format_RGB888)
        width, height = image.width(), image.height()
        data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
        rgb = data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)
        picture = Image.fromarray(rgb.copy())
        path = (folder or args.out) / f"{name}.png"
        picture.save(path, optimize=True)
        if args.keep_raw:
            picture.save(extra / f"{name}-raw.png")
        # Too big for the README: a palette first (fewer colours), and only then a smaller picture.
        attempts = [(1.0, colours) for colours in (256, 192, 128)] + [(scale, 128) for scale in (0.9, 0.8, 0.7, 0.6)]
        for scale, colours in attempts:
            if path.stat().st_size <= MAX_BYTES:
                break
            small = picture if scale == 1.0 else picture.resize((round(width * scale), round(height * scale)),
                                                                 Image.LANCZOS)
            palette(small, colours).save(path, optimize=True)
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
              f"({path.stat().st_size // 1024} KB)")
        return path

    window = MainWindow(checkpoint=args.checkpoint)
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    window.activateWindow()
    QTest.qWaitForWindowActive(window, 5000)  # an inactive window greys its selection colours
    wait_until(window.isVisible, "window shown")
    canvas = window.canvas
    events = {"preview": 0, "applied": 0}
    window.preview_shown.connect(lambda: events.__setitem__("preview", events["preview"] + 1))
    window.edit_applied.connect(lambda: events.__setitem__("applied", events["applied"] + 1))

    def mouse(kind, x: float, y: float, button=Qt.LeftButton, buttons=Qt.LeftButton) -> None:
        """A mouse event on the canvas at image pixel (x, y)."""
        position = QPointF(canvas.mapFromScene(QPointF(x, y)))
        global_position = QPointF(canvas.viewport().mapToGlobal(position.toPoint()))
        QApplication.sendEvent(canvas.viewport(), QMouseEvent(kind, position, global_position, button, buttons,
                                                              Qt.NoModifier))
        pump()

    def click(x: float, y: float) -> None:
        mouse(QMouseEvent.Type.MouseButtonPress, x, y)
        mouse(QMouseEvent.Type.MouseButtonRelease, x, y, buttons=Qt.NoButton)

    def drag(points: list[tuple[float, float]], release: bool = True) -> None:
        mouse(QMouseEvent.Type.MouseButtonPress, *points[0])
        for point in points[1:]:
            mouse(QMouseEvent.Type.MouseMove, *point, button=Qt.NoButton)
        if release:
            mouse(QMouseEvent.Type.MouseButtonRelease, *points[-1], buttons=Qt.NoButton)

    def idle() -> bool:
        return not window.selection.worker.busy and not window.edits.worker.busy

    def select(x: float, y: float, what: str) -> None:
        window.set_tool(Tool.SELECT)
        before = window.region.copy()
        click(x, y)
        wait_until(lambda: not window.selection.worker.busy and not np.array_equal(window.region, before), what)
        ys, xs = np.nonzero(window.region)
        print(f"  region: {int(window.region.sum())} px, x {xs.min()}..{xs.max()}, y {ys.min()}..{ys.max()}")

    def apply(what: str) -> None:
        count = events["applied"]
        window.apply_action.trigger()
        pump(1.5)
        save(window, f"applying-{count + 1}", extra)  # not for the README: the progress bar and the status text
        wait_until(lambda: events["applied"] > count, what, args.timeout)
        print(f"  timings: {', '.join(f'{k} {v:.2f}s' for k, v in window.edits.last_timings.items())}")

    # 1. Opened (as from the command line / File > Open / a dropped file).
    if not window.open_image(args.image):
        raise SystemExit(f"screenshots: cannot open {args.image}: {window.last_error}")
    wait_until(lambda: idle() and (window.edits.manipulator is not None or window.edits.model_error), "segmenter and model ready", 300)
    if window.edits.model_error:
        raise SystemExit(f"screenshots: the SIM-Net model does not load: {window.edits.model_error}")
    save(window, "01-opened")

    # 2. Select the big star, left of centre: a click first, as a user starts. The built-in
    # segmenter's first candidate for that click also takes the swirl of sky above the star, and its
    # larger candidate takes most of the sky, so stepping through candidates (Tab) does not help; a
    # right click on the extra sky also bites into the star. So, as a user would, when the click's
    # selection reaches beyond the star: Esc (Clear Selection) and drag a box around the star.
    select(*STAR_CENTRE, "click on the big star")
    print(f"  status: {window.candidates.label.text()}")
    save(window, "02a-clicked", extra)  # not for the README: what the click alone selected
    ys, xs = np.nonzero(window.region)
    (x0, y0), (x1, y1) = STAR_BOX[:2], STAR_BOX[2:]
    if xs.min() < x0 or xs.max() > x1 or ys.min() < y0 or ys.max() > y1:
        print("  the click took more than the star: Esc, then a box around the star")
        window.clear_action.trigger()
        pump(0.1)
        window.set_tool(Tool.SELECT)
        before = window.region.copy()
        drag([(x0, y0), ((x0 + x1) / 2, (y0 + y1) / 2), (x1, y1)])
        wait_until(lambda: not window.selection.worker.busy and not np.array_equal(window.region, before),
                   "star selected by a box")
        ys, xs = np.nonzero(window.region)
        print(f"  region: {int(window.region.sum())} px, x {xs.min()}..{xs.max()}, y {ys.min()}..{ys.max()}")
    print(f"  status: {window.candidates.label.text()}")
    save(window, "02-selected")

    # 3. Reshape with the Transform tool: turn the knob 25°, pull a corner out 1.3x, drag it up and right.
    window.set_tool(Tool.TRANSFORM)
    pump(0.1)
    handles = canvas._handle_positions()
    centre = canvas._target_centre
    knob = handles["rotate"]
    radius = math.hypot(knob.x() - centre.x(), knob.y() - centre.y())
    start = math.atan2(knob.y() - centre.y(), knob.x() - centre.x())
    drag([(centre.x() + radius * math.cos(start + math.radians(a)), centre.y() + radius * math.sin(start + math.radians(a)))
          for a in range(0, 26, 5)])
    handles, centre = canvas._handle_positions(), canvas._target_centre
    corner = handles["scale_br"]
    drag([(centre.x() + (corner.x() - centre.x()) * f, centre.y() + (corner.y() - centre.y()) * f)
          for f in (1.0, 1.1, 1.2, 1.3)])
    centre = canvas._target_centre
    drag([(centre.x() + dx, centre.y() + dy) for dx, dy in ((0, 0), (15, -8), (30, -16), (45, -22))])
    save(window, "03-reshaped")  # the Transform tool: the dotted band of the Auto reach is drawn too

    # 3b. The Reach control set wider while the band is drawn; then back to Auto for the rest.
    def set_reach(value: int) -> None:
        band = {"updated": window.reach.spin.value() == value}
        window.reach.band_updated.connect(lambda: band.__setitem__("updated", True))
        window.reach.spin.setValue(value)
        wait_until(lambda: band["updated"], f"reach band {value or 'Auto'}")

    set_reach(60)
    save(window, "03b-reach")
    set_reach(0)
    previews = events["preview"]  # the preview for the Auto reach is the one to show next

    # 4. The reduced-resolution preview, computed in the background after the last change.
    wait_until(lambda: events["preview"] > previews and idle(), "preview", args.timeout)
    save(window, "04-preview")

    # 5. Apply: the full-resolution result becomes the canvas; its new outline is the next region.
    apply("first edit applied")
    save(window, "05-applied")

    # 6. A second edit with the brush: select the star left of the cypress and paint it bigger.
    select(115, 300, "small star selected")
    window.set_tool(Tool.BRUSH)
    window.size_slider.setValue(34)
    window.hardness_slider.setValue(70)
    ys, xs = np.nonzero(window.region)
    cx, cy, r = xs.mean(), ys.mean(), (xs.max() - xs.min()) / 2
    ring = [(cx + (r + 6) * math.cos(math.radians(a)), cy + (r + 6) * math.sin(math.radians(a))) for a in range(-90, 271, 15)]
    drag(ring)  # a stroke around the star: it grows by the brush's radius
    mouse(QMouseEvent.Type.MouseMove, cx + r + 45, cy + 25, button=Qt.NoButton, buttons=Qt.NoButton)  # the brush cursor
    save(window, "06-brush")
    apply("second edit applied")

    # 7. History: both edits with thumbnails; a click on the first one goes back to it (the second stays redoable).
    window.set_tool(Tool.SELECT)
    window.history_dock.raise_()
    rect = window.history.visualItemRect(window.history.item(1))
    viewport = window.history.viewport()
    for kind, buttons in ((QMouseEvent.Type.MouseButtonPress, Qt.LeftButton), (QMouseEvent.Type.MouseButtonRelease, Qt.NoButton)):
        position = QPointF(rect.center())
        QApplication.sendEvent(viewport, QMouseEvent(kind, position, QPointF(viewport.mapToGlobal(rect.center())),
                                                     Qt.LeftButton, buttons, Qt.NoModifier))
    wait_until(lambda: window.session.position == 1, "back at edit 1")
    save(window, "07-history")
    window.redo_action.trigger()
    pump(0.2)

    # 8. Side-by-side compare: the original and the result, zoomed and panned together.
    window.compare_action.trigger()
    dialog = window.compare_dialog
    dialog.resize(1280, 470)
    wait_until(dialog.isVisible, "compare dialog")
    pump(0.5)
    for view in (dialog.left, dialog.right):
        view.fitInView(view.sceneRect(), Qt.KeepAspectRatio)
    save(dialog, "08-compare")
    dialog.close()

    window.session.dirty = False  # nothing to ask on close
    window.shutdown_workers()
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
