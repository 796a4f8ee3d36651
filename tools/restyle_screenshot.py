#!/usr/bin/env python3
"""A screenshot of the editor's Restyle tool for the README: the shipped *Starry Night* with its sky
restyled from the sky of another painting opened in the Restyle panel.

    .venv/bin/python tools/restyle_screenshot.py [--exemplar ../shared/data/artworks/shipwreck.jpg]

The exemplar region is boxed in the panel's image view (the segmenter answers the box, as for a user's
box); the region to restyle is the Starry Night's sky as a fixed rectangle (the same as in
``tools/restyle_figure.py``). The window is grabbed with the live preview at full strength
(``11-restyle-preview.png``) and after Apply (``12-restyle-applied.png``). Runs on Qt's offscreen
platform, so it needs no display.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

SAMPLE = ROOT / "resources" / "samples" / "starry_night.jpg"
EXEMPLAR = ROOT.parent / "shared" / "data" / "artworks" / "shipwreck.jpg"
OUT = ROOT / "docs" / "screenshots"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exemplar", type=Path, default=EXEMPLAR, help="the painting whose sky is the exemplar")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--size", default="1200x760", help="window size, WxH")
    args = parser.parse_args()
    if not args.exemplar.is_file():
        print(f"restyle_screenshot: no exemplar painting at {args.exemplar}", file=sys.stderr)
        return 1

    from PySide6.QtWidgets import QApplication

    from editor_harness import isolate_user_state, pump, wait_until as wait_events

    isolate_user_state(Path(tempfile.mkdtemp(prefix="simnet-restyle-shot-")))  # the user's own stay untouched

    from app.main_window import MainWindow
    from restyle_figure import TURNER_SKY, VAN_GOGH_SKY, _rectangle

    application = QApplication.instance() or QApplication([])
    window = MainWindow()
    width, height = (int(value) for value in args.size.split("x"))
    window.resize(width, height)
    window.show()

    def wait_until(condition, seconds: float, what: str) -> None:
        wait_events(application, condition, what, seconds, tool="restyle_screenshot")

    def grab(name: str) -> None:
        pump(application, 0.2)
        args.out.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(args.out / name))
        print(f"wrote {args.out / name}")

    assert window.open_image(SAMPLE)
    window.canvas.fit()
    restyle = window.restyle
    restyle.action.trigger()
    restyle.picker.open_exemplar_image(args.exemplar)
    wait_until(lambda: restyle.picker.other_image is not None, 60, "the exemplar image")
    exemplar_height, exemplar_width = restyle.picker.other_image.shape[:2]
    x0, y0, x1, y1 = TURNER_SKY
    restyle.panel.exemplar_view.boxed.emit(x0 * exemplar_width, y0 * exemplar_height, x1 * exemplar_width,
                                     y1 * exemplar_height)
    wait_until(lambda: restyle.exemplar_region is not None, 120, "the exemplar region")
    region = _rectangle(window.session.current.shape, VAN_GOGH_SKY)
    window.document.show_masks(region, region.copy())
    window.selection.show_region()
    wait_until(lambda: restyle.prepared is not None, 300, "the restyle")
    restyle.panel.strength_slider.setValue(100)
    pump(application, 0.2)
    window.canvas.fit()  # the panel took room from the canvas after it opened
    grab("11-restyle-preview.png")
    restyle.apply()
    wait_until(lambda: window.history.count() == 2, 300, "Apply")
    grab("12-restyle-applied.png")
    window.session = None
    window.shutdown_workers()
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "tools"))
    sys.exit(main())
