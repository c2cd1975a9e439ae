"""Atomic writes and the ledger's lock: special files, symbolic links, temporary files, full
disks, read-only folders and a lock that is a folder; each is one InputError (exit 2)."""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from faultray_lab.cli import main
from faultray_lab.common import files
from faultray_lab.common.errors import InputError
from faultray_lab.common.files import (
    STALE_TMP_SECONDS,
    atomic_write_text,
    clean_stale_tmp,
    exclusive_lock,
    lock_path,
)
from faultray_lab.evaluation.ledger import head_path, verify_ledger
from faultray_lab.evaluation.prospective import register

TOPOLOGY = {"components": [{"id": "app", "type": "app_server"}, {"id": "db", "type": "database"}],
            "dependencies": [{"source": "app", "target": "db", "type": "requires"}]}


def incidents(folder: Path, *ids: str) -> Path:
    folder.mkdir(exist_ok=True)
    for iid in ids:
        (folder / f"{iid}.yaml").write_text(yaml.safe_dump(
            {"id": iid, "title": iid, "provider": "generic", "topology": TOPOLOGY,
             "fault": {"component": "db", "type": "component_down"}}, sort_keys=False))
    return folder


def tmp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------------------------------------
# Only regular files or new paths are replaced
# ---------------------------------------------------------------------------------------------
def test_a_character_device_is_never_replaced() -> None:
    before = os.stat("/dev/null")
    with pytest.raises(InputError, match="character device"):
        atomic_write_text("/dev/null", "x")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino
    assert tmp_files(Path("/dev")) == []


def test_a_fifo_and_a_folder_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="FIFO"):   # refused without opening (no hang)
        atomic_write_text(fifo, "x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    with pytest.raises(InputError, match="is a folder"):
        atomic_write_text(tmp_path, "x")
    assert tmp_files(tmp_path) == []


def test_cli_refuses_a_device_ledger(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = incidents(tmp_path / "inc", "a")
    link = tmp_path / "ledger.jsonl"
    link.symlink_to("/dev/null")  # a link to a device is refused too
    assert main(["predict", str(d), "--ledger", str(link)]) == 2
    err = capsys.readouterr().err
    assert "not a regular file" in err and "Traceback" not in err
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


# ---------------------------------------------------------------------------------------------
# Symbolic links: the real file is written and locked
# ---------------------------------------------------------------------------------------------
def test_a_write_through_a_link_replaces_the_real_file(tmp_path: Path) -> None:
    real = tmp_path / "real" / "out.txt"
    real.parent.mkdir()
    real.write_text("old")
    os.chmod(real, 0o640)
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert stat.S_IMODE(os.stat(real).st_mode) == 0o640     # the file's mode is kept
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "real" / "created.txt")
    atomic_write_text(dangling, "made")
    assert dangling.is_symlink() and (tmp_path / "real" / "created.txt").read_text() == "made"


def test_two_links_to_one_ledger_share_its_records_lock_and_head(tmp_path: Path) -> None:
    real = tmp_path / "store" / "ledger.jsonl"
    real.parent.mkdir()
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    one.symlink_to(real)
    two.symlink_to(real)
    register(incidents(tmp_path / "i1", "a"), one)
    register(incidents(tmp_path / "i2", "b"), two)
    assert one.is_symlink() and two.is_symlink()
    assert [r["incident"] for r in verify_ledger(real)] == ["a", "b"]
    assert lock_path(one) == lock_path(two) == Path(f"{real}.lock")
    assert head_path(one) == head_path(two) == Path(f"{real}.head")
    assert sorted(p.name for p in real.parent.iterdir()) == [
        "ledger.jsonl", "ledger.jsonl.head", "ledger.jsonl.lock"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file() and not p.is_symlink()) == []
    # a writer through one link excludes a writer through the other
    with exclusive_lock(one), open(lock_path(two), "a+b") as other:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


# ---------------------------------------------------------------------------------------------
# Temporary files
# ---------------------------------------------------------------------------------------------
def _enospc(*args: object, **kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("where", ["write", "fsync", "replace"])
def test_a_full_disk_is_one_input_error_and_leaves_the_old_file(
        where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.json"
    out.write_text("old\n")
    if where == "write":
        real_write = os.write

        def half(fd: int, data: bytes) -> int:  # the first chunk fits, then the disk is full
            if len(data) > 1000:
                return real_write(fd, bytes(data[:1000]))
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "write", half)
    else:
        monkeypatch.setattr(os, where, _enospc)
    with pytest.raises(InputError, match="no space left on device") as err:
        atomic_write_text(out, "x" * 5000)
    monkeypatch.undo()
    assert "out.json" in str(err.value) and "free disk space" in str(err.value)
    assert out.read_text() == "old\n" and tmp_files(tmp_path) == []


def test_a_full_disk_during_predict_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    ledger = tmp_path / "l.jsonl"
    register(incidents(tmp_path / "i1", "a"), ledger)
    before = ledger.read_bytes(), head_path(ledger).read_bytes()
    monkeypatch.setattr(os, "fsync", _enospc)
    assert main(["predict", str(incidents(tmp_path / "i2", "b")), "--ledger", str(ledger)]) == 2
    monkeypatch.undo()
    err = capsys.readouterr().err
    assert "no space left on device" in err and "Traceback" not in err
    assert (ledger.read_bytes(), head_path(ledger).read_bytes()) == before
    assert tmp_files(tmp_path) == []


def test_dev_full_is_a_real_full_disk_for_a_temporary_file(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """/dev/full answers every write with ENOSPC: make the temporary file a link to it."""
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full on this system")
    real_mkstemp = files.tempfile.mkstemp

    def to_dev_full(**kwargs: str) -> tuple[int, str]:
        fd, name = real_mkstemp(**kwargs)
        os.close(fd)
        os.unlink(name)
        os.symlink("/dev/full", name)
        return os.open(name, os.O_WRONLY), name

    monkeypatch.setattr(files.tempfile, "mkstemp", to_dev_full)
    monkeypatch.setattr(os, "chmod", lambda *a, **k: None)  # never chmod /dev/full
    with pytest.raises(InputError, match="no space left on device"):
        atomic_write_text(tmp_path / "out.txt", "data")
    assert not (tmp_path / "out.txt").exists() and list(tmp_path.iterdir()) == []


def test_an_interrupted_write_removes_its_temporary_file(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(tmp_path / "out.txt", "x")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_stale_temporary_files_of_a_killed_writer_are_cleaned(tmp_path: Path) -> None:
    """A `kill -9` leaves `.<name>.<random>.tmp`; the next write of that target removes the ones
    older than STALE_TMP_SECONDS and leaves recent ones (a concurrent writer's) and others."""
    old = tmp_path / ".ledger.jsonl.k3j_x9a0.tmp"
    recent = tmp_path / ".ledger.jsonl.abcd1234.tmp"
    other = tmp_path / ".other.jsonl.k3j_x9a0.tmp"
    mine_not = tmp_path / ".ledger.jsonl.k3j_x9a0.tmp.keep"
    for p in (old, recent, other, mine_not):
        p.write_bytes(b"\0" * 1024)
    stale = os.stat(recent).st_mtime - STALE_TMP_SECONDS - 60
    for p in (old, other, mine_not):
        os.utime(p, (stale, stale))
    atomic_write_text(tmp_path / "ledger.jsonl", "x\n")
    assert not old.exists()
    assert recent.exists() and other.exists() and mine_not.exists()
    assert clean_stale_tmp(tmp_path / "ledger.jsonl", older_than=-1) == [recent]


def test_a_killed_writer_leaves_a_temporary_file_that_the_next_write_cleans(
        tmp_path: Path) -> None:
    """A real SIGKILL in the middle of a large write."""
    target = tmp_path / "big.bin"
    code = (
        "import os, sys\n"
        "from faultray_lab.common import files\n"
        "real_fsync = os.fsync\n"
        "def hang(fd):\n"
        "    print('writing', flush=True)\n"
        "    sys.stdin.read()\n"
        "os.fsync = hang\n"
        f"files.atomic_write_bytes({str(target)!r}, b'x' * 5_000_000)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.kill()
    finally:
        proc.wait(timeout=60)
    left = tmp_files(tmp_path)
    assert len(left) == 1 and not target.exists()
    stale = os.stat(tmp_path / left[0]).st_mtime - STALE_TMP_SECONDS - 60
    os.utime(tmp_path / left[0], (stale, stale))
    atomic_write_text(target, "done")
    assert tmp_files(tmp_path) == [] and target.read_text() == "done"


# ---------------------------------------------------------------------------------------------
# The lock and read-only folders
# ---------------------------------------------------------------------------------------------
def test_a_lock_that_is_a_folder_is_one_clear_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    ledger = tmp_path / "l.jsonl"
    Path(f"{ledger}.lock").mkdir()
    with pytest.raises(InputError, match="the lock file is a folder"):
        register(incidents(tmp_path / "i", "a"), ledger)
    assert main(["predict", str(tmp_path / "i"), "--ledger", str(ledger)]) == 2
    err = capsys.readouterr().err
    assert "the lock file is a folder" in err and "remove the folder" in err
    assert not ledger.exists()


def test_a_read_only_folder_is_one_clear_error_simulated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x"))

    monkeypatch.setattr(files.tempfile, "mkstemp", denied)
    with pytest.raises(InputError, match="permission denied"):
        atomic_write_text(tmp_path / "out.txt", "x")


def _unprivileged_cli(argv: list[str], env_dir: Path) -> subprocess.CompletedProcess:
    """Run the CLI as an unprivileged user (root bypasses folder permissions)."""
    cmd = [sys.executable, "-m", "faultray_lab.cli", *argv]
    env = {**os.environ, "HOME": str(env_dir), "MPLCONFIGDIR": str(env_dir)}
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env,
                          check=False)


def test_a_read_only_ledger_folder_exits_2(tmp_path: Path) -> None:
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot drop privileges")
    base = Path(tempfile.mkdtemp(prefix="faultray-ro-"))  # reachable by an unprivileged user
    try:
        os.chmod(base, 0o755)
        inc = incidents(base / "inc", "a")
        for p in (inc, *inc.iterdir()):
            os.chmod(p, 0o755 if p.is_dir() else 0o644)
        env_dir = base / "home"
        env_dir.mkdir(mode=0o777)
        os.chmod(env_dir, 0o777)
        ro = base / "ro"
        ro.mkdir()
        os.chmod(ro, 0o555)
        res = _unprivileged_cli(["predict", str(inc), "--ledger", str(ro / "l.jsonl")], env_dir)
        if "No module named" in res.stderr or "Permission denied: '" in res.stderr:
            pytest.skip(f"the unprivileged user cannot run the package: {res.stderr[-300:]}")
        assert res.returncode == 2, res.stderr
        assert "permission denied" in res.stderr and "Traceback" not in res.stderr
        assert res.stderr.count("\n") == 1 and list(ro.iterdir()) == []
        # a reader of an existing ledger in a read-only folder needs no lock file
        os.chmod(ro, 0o755)
        register(inc, ro / "l.jsonl")
        os.unlink(ro / "l.jsonl.lock")
        for p in ro.iterdir():
            os.chmod(p, 0o644)
        os.chmod(ro, 0o555)
        res = _unprivileged_cli(["ledger", "head", str(ro / "l.jsonl")], env_dir)
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith("head ")
    finally:
        if (base / "ro").exists():
            os.chmod(base / "ro", 0o755)
        shutil.rmtree(base, ignore_errors=True)
