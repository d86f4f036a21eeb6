"""The output folder: atomic writes, one file per finished run, and a lock.

A reader -- or a rerun after a crash -- sees the old file or the new one, never
half of one; :class:`FolderLock` keeps two benchmarks from writing one folder.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import math
import os
import re
import socket
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock
    fcntl = None

__all__ = ["FolderBusyError", "atomic_write"]


def atomic_write(path: str | os.PathLike, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + ``os.replace``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", "hello").read_text()
    'hello'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):  # mkstemp makes the file 0600: use the umask
            umask = os.umask(0o022)
            os.umask(umask)
            os.fchmod(fd, 0o666 & ~umask)
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item") and not isinstance(obj, str | bytes):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def to_json(obj, **kwargs) -> str:
    """Strict JSON: numpy scalars as numbers, NaN as null, other objects as text."""
    return json.dumps(_clean(obj), allow_nan=False, default=str, **kwargs)


def safe_name(part) -> str:
    """Make ``part`` usable in a file name: letters, digits and ``._=+-`` only."""
    text = re.sub(r"[^A-Za-z0-9._=+-]+", "_", str(part))
    return "_" if set(text) <= {"."} else text


class RunStore:
    """The ``runs/`` folder of an output folder: one JSON file per finished run."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder) / "runs"

    def path(self, run_id: str) -> Path:
        """File of one run; a ValueError when the id would leave the folder."""
        path = self.folder / f"{run_id}.json"
        if path.resolve().parent != self.folder.resolve():
            raise ValueError(f"run id {run_id!r} names a file outside {self.folder}")
        return path

    def save(self, record: dict) -> Path:
        """Write one run's record (atomically)."""
        return atomic_write(self.path(record["run_id"]), to_json(record, indent=1))

    def read(self) -> dict[str, object]:
        """Every run file's content by file name (None when it is not JSON)."""
        out = {}
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            try:
                out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                out[path.stem] = None
        return out


class FolderBusyError(RuntimeError):
    """Another benchmark holds the output folder's lock.

    Examples
    --------
    >>> issubclass(FolderBusyError, RuntimeError)
    True
    """


class FolderLock:
    """Hold ``<folder>/.fairsk-benchmark.lock`` while a benchmark writes the folder.

    An OS lock (``flock``): released when the process ends, however it ends, so a
    crashed benchmark leaves no stale lock. No lock where ``fcntl`` is missing.
    """

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self.path = self.folder / ".fairsk-benchmark.lock"
        self._fd = None

    def __enter__(self):
        if fcntl is None:  # pragma: no cover
            return self
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self.path.read_text(encoding="utf-8", errors="replace").strip()
            os.close(fd)
            raise FolderBusyError(
                f"{self.folder} is in use by another fairsk benchmark "
                f"({holder or 'unknown process'}); wait for it to finish or choose "
                "another output folder (-o)."
            ) from None
        os.ftruncate(fd, 0)
        started = _dt.datetime.now().isoformat(timespec="seconds")
        os.write(
            fd, f"pid {os.getpid()} on {socket.gethostname()} since {started}".encode()
        )
        self._fd = fd
        return self

    def __exit__(self, *exc):
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the lock
            self._fd = None
