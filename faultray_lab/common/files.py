"""Atomic file writes and the ledger's lock.

:func:`atomic_write_bytes` writes to a temporary file in the target's folder, flushes it to disk
and renames it over the target, so a crash or an error never leaves a half-written output:

* only a regular file or a new path is replaced; a folder, device, FIFO or socket is refused
  (:class:`~faultray_lab.common.errors.InputError`), so a write never clobbers ``/dev/...``;
* a symbolic link is followed: the real file is replaced (the link stays a link) and its lock
  (:func:`exclusive_lock`) sits beside the real file, so writers through different links take
  turns on one file;
* the temporary file (``.<name>.<random>.tmp``) is removed on every error and interruption the
  process sees; one left by a killed process (``kill -9``, power loss) is removed by the next
  write of the same target once it is older than :data:`STALE_TMP_SECONDS` (15 minutes, so a
  concurrent writer's file is never touched);
* an operating-system failure (full disk, read-only folder, permission denied, a path through a
  file) is one :class:`InputError` naming the file and the fix.

Examples
--------
>>> import tempfile, os
>>> d = tempfile.mkdtemp()
>>> p = atomic_write_text(os.path.join(d, "out.json"), '{"ok": true}\\n')
>>> open(p).read()
'{"ok": true}\\n'
>>> atomic_write_text(d, "x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
faultray_lab.common.errors.InputError: ...: the output path is a folder, not a file. Fix: ...
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import InputError

#: Temporary files of a target older than this (seconds) are left-overs of a killed writer and
#: are removed by the next write of that target.
STALE_TMP_SECONDS = 15 * 60

_KIND = {stat.S_IFDIR: "a folder", stat.S_IFCHR: "a character device",
         stat.S_IFBLK: "a block device", stat.S_IFIFO: "a FIFO (named pipe)",
         stat.S_IFSOCK: "a socket"}


def os_error(exc: OSError, path: str | os.PathLike[str], action: str) -> InputError:
    """One :class:`InputError` for an operating-system failure while ``action`` on ``path``.

    >>> print(os_error(OSError(28, "No space left on device"), "out.json", "writing"))
    out.json: writing: no space left on device. Fix: free disk space (or write elsewhere) and run \
again; the previous file is unchanged
    """
    code = exc.errno
    if code in (errno.ENOSPC, errno.EDQUOT):
        problem = "no space left on device" if code == errno.ENOSPC else "disk quota exceeded"
        fix = "free disk space (or write elsewhere) and run again; the previous file is unchanged"
    elif code in (errno.EACCES, errno.EPERM):
        problem = "permission denied"
        fix = "make the folder writable for this user, or write elsewhere"
    elif code == errno.EROFS:
        problem = "the file system is read-only"
        fix = "write to a writable folder"
    elif code == errno.EISDIR:
        problem = "a folder is in the way"
        fix = "remove or rename the folder"
    elif code == errno.ENOTDIR:
        problem = "a part of the path is a file, not a folder"
        fix = "fix the path"
    elif code == errno.ELOOP:
        problem = "too many levels of symbolic links (a link loop)"
        fix = "point the link at a real file"
    else:
        problem = (exc.strerror or str(exc) or type(exc).__name__).rstrip(".").lower()
        fix = "check the path and the disk, then run again"
    where = exc.filename if isinstance(exc.filename, str) and exc.filename else os.fspath(path)
    return InputError(where, action, problem, fix)


def real_path(path: str | os.PathLike[str]) -> Path:
    """``path`` with every symbolic link resolved (a dangling link: the path it points to).

    A write replaces the real file, never the link, and the lock sits beside the real file.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> os.symlink(os.path.join(d, "real.txt"), os.path.join(d, "link.txt"))
    >>> real_path(os.path.join(d, "link.txt")).name
    'real.txt'
    """
    try:
        return Path(os.path.realpath(os.fspath(path), strict=False))
    except OSError as exc:  # pragma: no cover - realpath(strict=False) rarely raises
        raise os_error(exc, path, "resolving the path") from None


def check_writable_target(path: str | os.PathLike[str]) -> Path:
    """The real path a write of ``path`` replaces; a folder, device, FIFO or socket (or a link
    to one) is an :class:`InputError`.

    >>> check_writable_target("/dev/null")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    faultray_lab.common.errors.InputError: /dev/null: the output path is a character device...
    """
    target = real_path(path)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise os_error(exc, target, "checking the output path") from None
    if not stat.S_ISREG(st.st_mode):
        kind = _KIND.get(stat.S_IFMT(st.st_mode), "not a regular file")
        shown = os.fspath(path) if os.fspath(path) == os.fspath(target) else (
            f"{os.fspath(path)} (-> {target})")
        raise InputError(shown, None, f"the output path is {kind}, not a file"
                         if kind == "a folder" else f"the output path is {kind}, not a regular "
                         "file; only regular files are replaced", "give the path of a regular "
                         "file (a new one is created)")
    return target


def clean_stale_tmp(target: Path, older_than: float = STALE_TMP_SECONDS) -> list[Path]:
    """Remove ``.<name>.<random>.tmp`` files beside ``target`` older than ``older_than`` seconds
    (left by a writer that was killed); returns the removed paths.

    >>> import tempfile, os, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> old = d / ".out.json.abcd1234.tmp"
    >>> _ = old.write_text("half")
    >>> os.utime(old, (0, 0))
    >>> [p.name for p in clean_stale_tmp(d / "out.json")]
    ['.out.json.abcd1234.tmp']
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    now = time.time()
    removed = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return removed
    for entry in entries:
        if not pattern.fullmatch(entry.name):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and now - st.st_mtime > older_than:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue  # another writer removed it, or it is not ours to remove
    return removed


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (parent folders are created); returns ``path``.

    See the module docstring for links, special files, temporary files and errors. An existing
    file's permission bits are kept; a new file gets the usual ``0666 & ~umask``.
    """
    shown = Path(path)
    target = check_writable_target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise os_error(exc, target.parent, "creating the output folder") from None
    clean_stale_tmp(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise os_error(exc, target, "writing") from None
    try:
        try:
            os.chmod(tmp, mode)  # mkstemp makes 0600
            _write_all(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise os_error(exc, target, "writing") from None
        raise
    _sync_folder(target.parent)
    return shown


def _sync_folder(folder: Path) -> None:
    """Flush the rename to disk (best effort; not every platform can open a folder)."""
    if os.name == "nt":  # pragma: no cover
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def lock_path(path: str | os.PathLike[str]) -> Path:
    """The lock file of ``path``: ``<real path>.lock`` (beside the real file, links resolved).

    >>> lock_path("ledger.jsonl").name
    'ledger.jsonl.lock'
    """
    return Path(f"{real_path(path)}.lock")


@contextlib.contextmanager
def exclusive_lock(path: str | os.PathLike[str], *, shared: bool = False) -> Iterator[Path]:
    """Hold an advisory lock on ``<real path>.lock`` (created if missing) for the block, so
    that concurrent writers of ``path`` (a ledger) take turns: each one reads, appends and
    renames while no other writer does. Blocks until the lock is free.

    ``shared=True`` takes a shared (reader's) lock: readers run together but never while a
    writer holds the lock. A reader creates nothing when neither the file nor its lock exists,
    and reads without a lock in a folder it cannot write (where no writer can be). A ``.lock``
    that is a folder, or a folder that cannot be written, is an :class:`InputError`.

    >>> import tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> with exclusive_lock(os.path.join(d, "ledger.jsonl")) as lock:
    ...     lock.name
    'ledger.jsonl.lock'
    """
    lock = lock_path(path)
    if shared and not lock.exists() and not real_path(path).exists():
        yield lock  # nothing to read yet, and a reader creates no files
        return
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock, "a+b")  # noqa: SIM115 - closed below
    except OSError as exc:
        unwritable = exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS)
        if not (shared and unwritable and not lock.exists()):
            if exc.errno == errno.EISDIR or lock.is_dir():
                raise InputError(str(lock), "taking the lock", "the lock file is a folder",
                                 f"remove the folder {lock} (no writer is running) and run "
                                 "again") from None
            raise os_error(exc, lock, "taking the lock") from None
        fh = None
    if fh is None:
        yield lock  # a reader where nobody can write: nothing to wait for
        return
    with fh:
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

            fcntl.flock(fh.fileno(), fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
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
