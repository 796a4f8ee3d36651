"""User settings (QSettings): SAM checkpoint, device, resampling, first-run hint, reach, export format, recent
files; and the dialog for the first three."""
from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLineEdit, QPushButton, QWidget)

from engine.edit_defaults import RESAMPLINGS
from engine.locality import MAX_REACH

DEVICES = ("auto", "cuda", "cpu")
#: How many recent files File > Open Recent lists.
RECENT_LIMIT = 10
DEVICE_LABELS = {"auto": "Auto (CUDA when available, else CPU)", "cuda": "CUDA (GPU)", "cpu": "CPU"}
#: How an edit reads the paint it moves (``engine.edit_defaults.RESAMPLINGS``), as the dialog names them.
RESAMPLING_LABELS = {"bilinear": "Bilinear (smoother; the default)",
                     "bicubic": "Bicubic (sharper brushwork when rotating or scaling)"}


class Settings:
    def __init__(self) -> None:
        self._store = QSettings("SIM-Net Studio", "SIM-Net Studio")

    def _choice(self, key: str, allowed: tuple[str, ...], default: str) -> str:
        """The stored value of ``key`` when it is one of ``allowed``, else ``default`` (an old or edited file)."""
        value = str(self._store.value(key, default))
        return value if value in allowed else default

    @property
    def sam_checkpoint(self) -> str:
        return str(self._store.value("sam_checkpoint", "") or "")

    @sam_checkpoint.setter
    def sam_checkpoint(self, value: str) -> None:
        self._store.setValue("sam_checkpoint", value)

    @property
    def device(self) -> str:
        return self._choice("device", DEVICES, "auto")

    @device.setter
    def device(self, value: str) -> None:
        self._store.setValue("device", value)

    @property
    def first_run(self) -> bool:
        return str(self._store.value("first_run_done", "false")) != "true"

    def mark_first_run_done(self) -> None:
        self._store.setValue("first_run_done", "true")

    @property
    def last_folder(self) -> str:
        return str(self._store.value("last_folder", "") or "")

    @last_folder.setter
    def last_folder(self, value: str) -> None:
        self._store.setValue("last_folder", value)

    @property
    def reach(self) -> float | None:
        """The edit's reach in pixels (the Reach control), or None for Auto (the default reach)."""
        value = str(self._store.value("reach", "auto"))
        try:
            reach = float(value)
        except ValueError:
            return None
        return min(reach, MAX_REACH) if math.isfinite(reach) and reach > 0 else None

    @reach.setter
    def reach(self, value: float | None) -> None:
        self._store.setValue("reach", "auto" if value is None else f"{value:g}")

    @property
    def resampling(self) -> str:
        """How an edit reads the paint it moves: "bilinear" (the default) or "bicubic"."""
        return self._choice("resampling", RESAMPLINGS, RESAMPLINGS[0])

    @resampling.setter
    def resampling(self, value: str) -> None:
        self._store.setValue("resampling", value)

    @property
    def last_export_format(self) -> str:
        """The image format of the last export (PNG, JPEG, TIFF, WEBP), or "" before the first."""
        return str(self._store.value("last_export_format", "") or "")

    @last_export_format.setter
    def last_export_format(self, value: str) -> None:
        self._store.setValue("last_export_format", value)

    @property
    def recent_files(self) -> list[str]:
        """The artworks and sessions opened or saved last, newest first (at most :data:`RECENT_LIMIT`)."""
        value = self._store.value("recent_files", [])
        if isinstance(value, str):  # QSettings gives a one-item list back as a plain string
            value = [value] if value else []
        return [str(item) for item in (value or []) if str(item)][:RECENT_LIMIT]

    def add_recent(self, path: str | Path) -> None:
        """Put ``path`` (made absolute) first among the recent files; an earlier mention of it is dropped."""
        entry = str(Path(path).expanduser().absolute())
        kept = [item for item in self.recent_files if item != entry]
        self._store.setValue("recent_files", [entry, *kept][:RECENT_LIMIT])

    def clear_recent(self) -> None:
        self._store.setValue("recent_files", [])


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.sam_path = QLineEdit(settings.sam_checkpoint)
        self.sam_path.setPlaceholderText("none: the built-in fallback segmenter is used")
        self.sam_path.setToolTip("A Segment Anything checkpoint (vit_b, vit_l or vit_h .pth)")
        self.sam_path.setMinimumWidth(380)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.sam_path)
        row.addWidget(browse)
        self.device = QComboBox()
        for value in DEVICES:
            self.device.addItem(DEVICE_LABELS[value], value)
        self.device.setCurrentIndex(DEVICES.index(settings.device))
        self.device.setToolTip("Where SIM-Net and SAM run: auto picks CUDA when present")
        self.resampling = QComboBox()
        for value, label in RESAMPLING_LABELS.items():
            self.resampling.addItem(label, value)
        self.resampling.setCurrentIndex(list(RESAMPLING_LABELS).index(settings.resampling))
        self.resampling.setToolTip("How a reshape reads the paint it moves, between pixels: bicubic keeps fine "
                                   "strokes sharper when a region is rotated or scaled (and over many edits)")
        form = QFormLayout(self)
        form.addRow("SAM checkpoint", row)
        form.addRow("Device", self.device)
        form.addRow("Resampling", self.resampling)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "SAM checkpoint", "", "PyTorch checkpoints (*.pth *.pt);;All files (*)")
        if path:
            self.sam_path.setText(path)

    def accept(self) -> None:
        self.settings.sam_checkpoint = self.sam_path.text().strip()
        self.settings.device = self.device.currentData()
        self.settings.resampling = self.resampling.currentData()
        super().accept()
