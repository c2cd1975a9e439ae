"""Atomic file writes: write to a temporary file in the same folder, then rename.

A crash or an error never leaves a half-written output behind.

Examples
--------
>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> p = atomic_write_text(os.path.join(d, "out.json"), '{"ok": true}\\n')
>>> open(p).read()
'{"ok": true}\\n'
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders are created)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual file mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Hold an exclusive advisory lock on ``<path>.lock`` (created if missing) for the block,
    so that concurrent writers of ``path`` (a ledger) take turns: each one reads, appends and
    renames while no other writer does. Blocks until the lock is free.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with exclusive_lock(os.path.join(d, "ledger.jsonl")) as lock:
    ...     lock.name
    'ledger.jsonl.lock'
    """
    lock = Path(f"{os.fspath(path)}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as fh:
        if os.name == "nt":  # pragma: no cover - exercised on Windows only
            import msvcrt

            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield lock
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield lock
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def package_data(name: str) -> Path:
    """The path of a data file shipped inside the package (``faultray_lab/data/<name>``).

    >>> package_data("demo.yaml").name
    'demo.yaml'
    """
    return Path(__file__).resolve().parents[1] / "data" / name


def project_path(relative: str, start: str | os.PathLike[str] | None = None) -> Path:
    """``relative`` resolved against the project root: the nearest folder at or above ``start``
    (default: the working directory) that holds ``pyproject.toml`` and ``faultray_lab/``; the
    working directory itself when there is none. Lets a notebook find the repository's folders
    whether it runs from ``notebooks/`` (nbval, ``faultray-lab reproduce``) or from the root
    (``papermill notebooks/...``).

    >>> project_path("incidents").name
    'incidents'
    """
    here = Path(start) if start is not None else Path.cwd()
    for d in (here, *here.resolve().parents):
        if (d / "pyproject.toml").is_file() and (d / "faultray_lab").is_dir():
            return d / relative
    return here / relative
