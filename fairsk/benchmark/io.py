"""Atomic file writes, and the per-run store that makes a benchmark resumable.

Every file is written to a temporary file in the same folder and moved into place
with :func:`os.replace` (atomic on POSIX and Windows), so a reader -- or a rerun
after a crash -- sees either the old file or the new one, never half of one.
Each finished run is its own ``runs/<run_id>.json``; a rerun with the same output
folder skips the runs found there (except those an earlier fairsk recorded without
today's fields, see :func:`~fairsk.benchmark.runs.is_complete`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from pathlib import Path

__all__ = ["RunStore", "atomic_write", "to_json"]


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
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(
            fd, mode, **({} if mode == "wb" else {"encoding": "utf-8"})
        ) as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def _clean(obj):
    """JSON-safe copy: numpy scalars to Python, NaN/inf to None."""
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
    """``json.dumps`` of :func:`_clean` (strict JSON: no NaN).

    numpy scalars become Python numbers, tuples lists, NaN and infinities
    ``null``; ``kwargs`` go to :func:`json.dumps`.

    Examples
    --------
    >>> import numpy as np
    >>> to_json({"value": np.float32(0.5), "missing": float("nan"), "ids": (1, 2)})
    '{"value": 0.5, "missing": null, "ids": [1, 2]}'
    """
    return json.dumps(_clean(obj), allow_nan=False, **kwargs)


class RunStore:
    """The ``runs/`` folder of an output folder: one JSON file per finished run.

    Parameters
    ----------
    folder : path-like
        The benchmark's output folder.

    Examples
    --------
    >>> import tempfile
    >>> store = RunStore(tempfile.mkdtemp())
    >>> _ = store.save({"run_id": "a", "status": "ok"})
    >>> list(store.finished())
    ['a']
    """

    #: Statuses that need no rerun (errors are retried).
    FINISHED = ("ok", "skipped")

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder) / "runs"

    def path(self, run_id: str) -> Path:
        """File of one run."""
        return self.folder / f"{run_id}.json"

    def save(self, record: dict) -> Path:
        """Write one run's record (atomically)."""
        return atomic_write(self.path(record["run_id"]), to_json(record, indent=1))

    def load(self, run_id: str) -> dict | None:
        """One run's record, or None when absent or unreadable."""
        try:
            return json.loads(self.path(run_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def finished(self) -> dict[str, dict]:
        """Return the records of the finished runs in the folder, by run id."""
        out = {}
        if not self.folder.is_dir():
            return out
        for path in sorted(self.folder.glob("*.json")):
            record = self.load(path.stem)
            if record is not None and record.get("status") in self.FINISHED:
                out[path.stem] = record
        return out
