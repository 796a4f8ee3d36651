"""``simnet-editor [IMAGE|SESSION] [--screenshot OUT.png]``: the SIM-Net Studio desktop editor."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from app.main_window import MainWindow
from app.qt_platform import platform_hint
from engine.about import DESCRIPTION, version
from engine.memory import keep_freed_memory


def window_size(text: str) -> tuple[int, int]:
    """``--size WxH`` as (width, height); argparse turns the error into one line and exit status 2."""
    width, separator, height = text.strip().lower().partition("x")
    try:
        size = (int(width), int(height))
    except ValueError:
        size = (0, 0)
    if not separator or min(size) < 1 or max(size) > 16384:
        raise argparse.ArgumentTypeError(f"{text!r} is not a window size: use WIDTHxHEIGHT, e.g. 1280x820")
    return size


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="simnet-editor", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    parser.add_argument("file", nargs="?", help="an artwork or a .simnet session to open")
    parser.add_argument("--screenshot", metavar="OUT.png", help="render the window, save a capture and exit")
    parser.add_argument("--size", type=window_size, default=None, metavar="WxH",
                        help="the window's size, WIDTHxHEIGHT (default 1280x820)")
    parser.add_argument("--checkpoint", metavar="PT", help="a SIM-Net checkpoint to use instead of the shipped one")
    return parser.parse_args(argv)


def open_file(window: MainWindow, path: str) -> bool:
    return window.open_session(path) if path.endswith(".simnet") else window.open_image(path)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if QApplication.instance() is None:
        hint = platform_hint()  # before Qt aborts the process with a message that names no package
        if hint:
            print(f"simnet-editor: error: {hint}", file=sys.stderr)
            return 2
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("SIM-Net Studio")
    app.setOrganizationName("SIM-Net Studio")
    window = MainWindow(checkpoint=args.checkpoint)
    if args.size:
        window.resize(*args.size)
    if args.screenshot:
        window.modal_errors = False  # an error stays in the status bar (and the capture); no dialog waits for a click
        window.show()
        if args.file and not open_file(window, args.file):
            print(f"simnet-editor: error: {window.last_error}", file=sys.stderr)
            return 2
        for _ in range(20):
            app.processEvents()
        window.selection.worker.wait_idle(30)
        app.processEvents()
        window.canvas.fit()
        app.processEvents()
        ok = window.grab().save(str(Path(args.screenshot)))
        window.shutdown_workers()
        if window.last_error:
            print(f"simnet-editor: notice: {window.last_error}", file=sys.stderr)
        if not ok:
            print(f"simnet-editor: error: could not write {args.screenshot}", file=sys.stderr)
            return 2
        print(f"wrote {args.screenshot}")
        return 0
    window.show()
    if args.file:
        window.sessions.open_in_background(args.file)
    QTimer.singleShot(0, window.offer_recovery)
    QTimer.singleShot(0, window.show_first_run_hint)
    return app.exec()


def gui_main() -> int:
    """The ``simnet-editor`` command: :func:`main` in a process whose allocator keeps freed memory for the next
    edit (:mod:`engine.memory`; set before Qt and the workers start their threads)."""
    keep_freed_memory()
    return main()


if __name__ == "__main__":
    sys.exit(gui_main())
