"""One writer at a time for a local destination, waiting a bounded time for the other run.

`hold(lock_file, ...)` takes an exclusive `flock` on a file beside the destination. The kernel
drops it when the holder dies (SIGKILL included), so a crashed run never blocks the next one. The
holder writes who it is into the file, so a run that waits too long says which run it waited for.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

DEFAULT_WAIT_SECONDS = 600.0


class Busy(RuntimeError):
    """Another run held the destination for longer than the bounded wait. Nothing was written."""


@contextlib.contextmanager
def hold(lock_file: Path, what: str, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[None]:
    """Exclusive use of `what` (a destination, for messages) while the block runs."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = time.monotonic() + wait_seconds
        pause = 0.05
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another run"
                    raise Busy(
                        f"{what} is busy: {holder} is writing it; waited {wait_seconds:g} s, nothing was written; "
                        "run again when it has finished"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 1.0)
        os.ftruncate(fd, 0)
        started = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        os.pwrite(fd, f"process {os.getpid()} on {socket.gethostname()} since {started}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock
