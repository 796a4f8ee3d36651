"""Atomic file writes: a temporary file in the same folder, flushed, fsynced, then renamed.

A crash, a kill or a full disk during the write leaves any previous file at the path intact and
no half-written file behind.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import IO, Iterator

from engine.errors import ImageWriteError


def _fsync_directory(directory: Path) -> None:
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _permissions_for(path: Path) -> int:
    """Keep an existing file's permissions; a new file gets the usual ones (0666 less the umask)."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", error: type[Exception] = ImageWriteError) -> Iterator[IO]:
    """Context manager giving a file object; on success it replaces ``path`` in one step."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise error(f"cannot write {path}: the folder {directory} does not exist") from None
    except PermissionError:
        raise error(f"cannot write {path}: no permission to write in {directory}") from None
    except OSError as failure:
        raise error(f"cannot write {path}: {failure.strerror or failure}") from None
    try:
        with os.fdopen(descriptor, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, _permissions_for(path))
        os.replace(temporary, path)
    except BaseException as failure:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(failure, OSError):
            reason = "the disk is full" if failure.errno == 28 else (failure.strerror or str(failure))
            raise error(f"cannot write {path}: {reason}; any previous file is unchanged") from None
        raise
    _fsync_directory(directory)


def atomic_write_bytes(path: str | Path, data: bytes, error: type[Exception] = ImageWriteError) -> None:
    with atomic_write(path, "wb", error) as handle:
        handle.write(data)
