"""Will Qt's X11 platform plugin load? Checked before QApplication exists, because when it cannot,
Qt prints a long message that never names the missing system packages and aborts the process.

The plugin (``libqxcb.so``) links a dozen small X11 libraries that a Linux desktop often lacks;
each one that ``dlopen`` cannot find is reported by its Debian/Ubuntu package name.
"""
from __future__ import annotations

import ctypes
import os
import sys
from typing import Callable, Mapping

#: The shared libraries Qt 6's xcb plugin needs beyond Qt itself, and the apt package of each.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def _loads(library: str) -> bool:
    try:
        ctypes.CDLL(library)
    except OSError:
        return False
    return True


def missing_packages(loads: Callable[[str], bool] = _loads) -> list[str]:
    """The apt packages of the xcb plugin's libraries that cannot be loaded, in a stable order."""
    return [package for library, package in XCB_LIBRARIES.items() if not loads(library)]


def uses_xcb(environ: Mapping[str, str]) -> bool:
    """Whether Qt will start with its X11 (xcb) plugin: asked for first in ``QT_QPA_PLATFORM``, or
    by default outside a Wayland session."""
    requested = environ.get("QT_QPA_PLATFORM", "").strip()
    if requested:
        return requested.split(";")[0].split(":")[0].strip() == "xcb"
    return not environ.get("WAYLAND_DISPLAY")


def platform_hint(environ: Mapping[str, str] | None = None, platform: str = sys.platform,
                  loads: Callable[[str], bool] = _loads) -> str | None:
    """One line saying why the editor's window cannot open and what to install, or None when it can."""
    environ = os.environ if environ is None else environ
    if not platform.startswith("linux") or not uses_xcb(environ):
        return None
    missing = missing_packages(loads)
    if missing:
        return ("the Qt platform plugin 'xcb' cannot load: these system libraries are missing; install them with "
                f"`sudo apt-get install {' '.join(missing)}` (see README, Linux desktop packages)")
    if not environ.get("DISPLAY"):
        return ("no X display to open the window on (DISPLAY is not set): start it from a desktop session, "
                "or use QT_QPA_PLATFORM=offscreen with --screenshot")
    return None
