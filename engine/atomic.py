"""Atomic file writes: a temporary file in the same folder, flushed, fsynced, then renamed.

A crash, a kill or a full disk during the write leaves any previous file at the path intact and
never a half-written file at the path. (A kill can leave the hidden temporary ``.NAME.*.tmp``
beside it; it is never mistaken for the file.) An existing read-only file is not replaced.
"""
from __future__ import annotations

import contextlib
import errno
import os
import stat
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


def _reason(failure: OSError) -> str:
    if failure.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full"
    return failure.strerror or str(failure)


def _check_replaceable(path: Path, error: type[Exception]) -> None:
    """Renaming over a file ignores its permissions, so refuse a read-only file (or a folder) here."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if stat.S_ISDIR(mode):
        raise error(f"cannot write {path}: it is a folder")
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise error(f"cannot write {path}: the file is read-only")


def same_file(first: Path, second: Path) -> bool:
    """True when both paths name one file (the second need not exist)."""
    try:
        return first.resolve() == second.resolve() or (second.exists() and os.path.samefile(first, second))
    except OSError:
        return False


def check_writable(path: str | Path, error: type[Exception] = ImageWriteError) -> None:
    """Refuse, before any work, an output that :func:`atomic_write` could not write: its folder missing, not a
    folder or not writable, or the path a folder or a read-only file (a long evaluation found out at its end)."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.exists():
        raise error(f"cannot write {path}: the folder {directory} does not exist")
    if not directory.is_dir():
        raise error(f"cannot write {path}: {directory} is not a folder")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise error(f"cannot write {path}: no permission to write in {directory}")
    _check_replaceable(path, error)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", error: type[Exception] = ImageWriteError) -> Iterator[IO]:
    """Context manager giving a file object; on success it replaces ``path`` in one step."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    _check_replaceable(path, error)
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except FileNotFoundError:
        raise error(f"cannot write {path}: the folder {directory} does not exist") from None
    except PermissionError:
        raise error(f"cannot write {path}: no permission to write in {directory}") from None
    except OSError as failure:
        raise error(f"cannot write {path}: {_reason(failure)}") from None
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
            raise error(f"cannot write {path}: {_reason(failure)}; any previous file is unchanged") from None
        raise
    _fsync_directory(directory)


def atomic_write_bytes(path: str | Path, data: bytes, error: type[Exception] = ImageWriteError) -> None:
    with atomic_write(path, "wb", error) as handle:
        handle.write(data)
