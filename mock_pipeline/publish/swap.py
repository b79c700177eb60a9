"""Publishing a folder that no crash can half-do.

`replace_dir(target, build)` builds the new content in a staging folder beside `target`, then
swaps it in with ONE atomic system call: Linux's `renameat2(RENAME_EXCHANGE)` exchanges the two
names, so at every instant `target` is the previous complete folder or the whole new one, even
between any two system calls and whatever kills the process. A first publish (no `target` yet) is
a plain `rename`, atomic too.

Staging folders of dead runs are removed at the next run, never one a live run owns: every
staging folder has a lock file beside it, held (`flock`) for the life of the run that made it. The
kernel releases the lock when that process dies, SIGKILL included, so a lock that can be taken
belongs to nobody alive.

Elsewhere (no `renameat2`: macOS, or a file system that refuses the exchange) the swap falls back
to two renames, and a crash between them is repaired at the next run: the previous folder, parked
under a name the lock file records, is put back before anything else happens.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
RENAME_EXCHANGE = 2  # linux/fs.h
AT_FDCWD = -100
# renameat2's system call number where glibc is too old to export it.
_RENAMEAT2_SYSCALL = {"x86_64": 316, "aarch64": 276}


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap two existing paths; False when this system cannot (the caller falls back)."""
    if _LIBC is None:
        return False
    if hasattr(_LIBC, "renameat2"):
        result = _LIBC.renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    elif (number := _RENAMEAT2_SYSCALL.get(os.uname().machine)) is not None:
        result = _LIBC.syscall(number, AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE)
    else:
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False  # the kernel or the file system has no exchange
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def _lock_path(staging: Path) -> Path:
    return staging.with_name(staging.name + ".lock")


def _parked(staging: Path) -> Path:
    return staging.with_name(staging.name.removesuffix(".staging") + ".old")


@contextlib.contextmanager
def _claim(target: Path) -> Iterator[Path]:
    """A fresh staging folder beside `target`, owned (flock held) until the block ends."""
    while True:
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:16]}.staging")
        lock = _lock_path(staging)
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh name: never waits
        with contextlib.suppress(FileNotFoundError):
            # A cleaner may have removed the file between its creation and our lock: start over.
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break
        os.close(fd)
    try:
        staging.mkdir()
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            shutil.rmtree(_parked(staging), ignore_errors=True)
            lock.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _owned_by_a_live_run(lock: Path) -> bool:
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the lock we may have taken
    return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(target: Path, log: Callable[[str], None] = lambda _: None) -> list[Path]:
    """Repair and tidy what dead runs left beside `target`; returns what was removed.

    A parked previous folder with no `target` (a swap died between two renames) is put back first.
    Staging and parked folders are removed only when their lock can be taken, or, for the previous
    version's `.<name>.<pid>.*` folders, when that process is gone.
    """
    removed: list[Path] = []
    parent = target.parent
    if not parent.is_dir():
        return removed
    ours = re.compile(rf"^(?P<base>\.{re.escape(target.name)}\.[0-9a-f]{{16}})\.(?P<kind>staging|old)$")
    legacy = re.compile(rf"^\.{re.escape(target.name)}\.(?P<pid>\d+)\.(?P<kind>staging|old)$")
    for entry in sorted(parent.iterdir()):
        if m := ours.match(entry.name):
            dead = not _owned_by_a_live_run(parent / f"{m['base']}.staging.lock")
        elif m := legacy.match(entry.name):
            dead = int(m["pid"]) == os.getpid() or not _pid_alive(int(m["pid"]))
        else:
            continue
        if not dead:
            continue
        if m["kind"] == "old" and not target.exists():
            os.rename(entry, target)  # the previous complete folder goes back where readers look
            log(f"restored {target} from {entry.name}: a run died half-way through its swap")
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
        log(f"removed {entry}, left by a run that died")
    lock_name = re.compile(rf"^(?P<base>\.{re.escape(target.name)}\.[0-9a-f]{{16}})\.staging\.lock$")
    for lock in sorted(parent.iterdir()):
        if (m := lock_name.match(lock.name)) is None:
            continue
        leftovers = (parent / f"{m['base']}.staging").exists() or (parent / f"{m['base']}.old").exists()
        if not leftovers and not _owned_by_a_live_run(lock):
            lock.unlink(missing_ok=True)
    return removed


def _swap_in(staging: Path, target: Path) -> None:
    """Make `staging`'s content visible at `target` in one atomic step."""
    while True:
        if target.exists() or target.is_symlink():
            if exchange(staging, target):
                return  # `staging` now holds the previous content; the caller removes it
            # No exchange here: park the previous folder under a name recover() knows, then rename.
            os.rename(target, _parked(staging))
            os.rename(staging, target)
            return
        try:
            os.rename(staging, target)  # first publish: atomic, fails if someone created target meanwhile
            return
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise


def replace_dir(target: Path, build: Callable[[Path], T], log: Callable[[str], None] = lambda _: None) -> T:
    """Build a folder beside `target` with `build(staging)`, then swap it in atomically.

    Readers see the previous complete folder or the whole new one at every instant; a failure in
    `build` leaves `target` untouched; leftovers of dead runs are tidied first.
    """
    target = target.absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target, log)
    with _claim(target) as staging:
        result = build(staging)
        _swap_in(staging, target)
    return result
