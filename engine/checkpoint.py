"""Reading and writing SIM-Net checkpoints, with clear errors for every way a file can be wrong."""
from __future__ import annotations

import os
import pickle
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from engine.atomic import atomic_write
from engine.errors import CheckpointError, one_line
from models.serialization import FORMAT_NAME, FORMAT_VERSION, from_payload, to_payload
from models.simnet import SimNet

SHIPPED_CHECKPOINT = "simnet.pt"


def default_checkpoint_path() -> Path:
    """The checkpoint shipped in the ``resources`` package."""
    return Path(str(resources.files("resources").joinpath(SHIPPED_CHECKPOINT)))


def save_checkpoint(path: str | Path, model: SimNet, metadata: dict[str, Any] | None = None, *, half: bool = False) -> None:
    """Write ``model`` atomically (optionally with float16 weights, to keep the file small)."""
    with atomic_write(path) as handle:
        torch.save(to_payload(model, metadata, half=half), handle)


#: What ``torch.load`` raises on a damaged or foreign file (weights_only refuses arbitrary pickles).
LOAD_ERRORS = (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, ValueError, OSError,
               AttributeError, TypeError, KeyError, IndexError, MemoryError)


def check_archive(path: Path, label: str = "checkpoint", error: type[Exception] = CheckpointError) -> None:
    """Verify the CRC of every record: torch.load does not, so a flipped byte in the weights would load.
    Refusals are ``error("{label} {path} ...")``."""
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as handle:
            legacy = handle.read(1) == b"\x80"  # a pickle: PyTorch's legacy format, torch.load explains
        if not legacy:
            raise error(f"{label} {path} is truncated or not a PyTorch file")
        return
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as reason:
        raise error(f"{label} {path} is truncated or damaged ({one_line(reason, 120)})") from None
    if damaged is not None:
        raise error(f"{label} {path} is damaged: {damaged} fails its checksum")


def load_torch_file(path: str | Path, label: str = "checkpoint", error: type[Exception] = CheckpointError) -> Any:
    """What ``torch.load`` reads from ``path`` (weights only, onto the CPU), every way the file can be wrong
    refused in one line, ``error("{label} {path} ...")``: missing, a folder, unreadable, not a PyTorch file,
    a flipped byte (:func:`check_archive`), or content the weights-only unpickler refuses (a text file
    can make it raise almost anything, hence :data:`LOAD_ERRORS`)."""
    path = Path(path)
    if not path.exists():
        raise error(f"{label} {path} does not exist")
    if path.is_dir():
        raise error(f"{label} {path} is a folder, not a file")
    if not os.access(path, os.R_OK):
        raise error(f"{label} {path}: no permission to read it")
    check_archive(path, label, error)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except LOAD_ERRORS as reason:
        raise error(f"{label} {path} is truncated or not a PyTorch file ({one_line(reason, 120)})") from None


def read_payload(path: str | Path) -> dict[str, Any]:
    payload = load_torch_file(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise CheckpointError(f"{path} is not a SIM-Net Studio checkpoint (for example a plain state dict or a SAM model)")
    version = payload.get("format_version")
    if not isinstance(version, int):
        raise CheckpointError(f"checkpoint {path} has no format version")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {path} has format version {version}, newer than this program "
                              f"understands ({FORMAT_VERSION}); update SIM-Net Studio")
    return payload


def load_model(path: str | Path | None = None, device: str = "cpu") -> SimNet:
    """Load a checkpoint (None: the shipped one) onto ``device``, in evaluation mode."""
    path = Path(path) if path is not None else default_checkpoint_path()
    payload = read_payload(path)
    try:
        model = from_payload(payload)
    except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
        raise CheckpointError(f"checkpoint {path} does not match the SIM-Net model: {one_line(error, 240)}") from None
    _check_finite(model, path)
    return model.to(device).eval()


def _check_finite(model: SimNet, path: Path) -> None:
    """Refuse NaN/Inf weights at load time (they would make every edit fail)."""
    for name, tensor in model.state_dict().items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CheckpointError(f"checkpoint {path} has invalid (NaN or infinite) weights in {name}")


def export_checkpoint(source: str | Path, destination: str | Path, metadata: dict[str, Any] | None = None) -> None:
    """Write a training checkpoint as a small shipping one (float16 weights, no optimizer state)."""
    payload = read_payload(source)
    model = from_payload(payload)
    merged = {key: value for key, value in payload.get("metadata", {}).items() if key != "optimizer"}
    merged.update(metadata or {})
    save_checkpoint(destination, model, merged, half=True)
