"""The published layout as the S3 tests compute it independently of the upload code: a version
folder named by the manifest's sha256, and CURRENT beside it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def version(export: Path) -> str:
    """The version folder an export lands in: named by its manifest's sha256, computed independently."""
    return "v-" + sha256((export / "manifest.json").read_bytes())[:16] + "/"


def layout(prefix: str, export: Path) -> set[str]:
    """The keys one published export has: CURRENT and its version folder (files and manifest)."""
    return {prefix + "CURRENT"} | {prefix + version(export) + p.name for p in export.iterdir()}


def write_export(root: Path, files: dict[str, bytes]) -> Path:
    """A hand-made export folder (files + manifest.json), as publish/files.py writes it."""
    root.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        old.unlink()
    entries = []
    for name, data in files.items():
        (root / name).write_bytes(data)
        entries.append({"path": name, "bytes": len(data), "sha256": sha256(data), "table": name.split(".")[0]})
    (root / "manifest.json").write_text(json.dumps({"files": entries, "tables": {"t": 1}}, sort_keys=True))
    return root
