"""README's shell blocks, checked without running them: each is valid bash, every `dagster` command in
them names a module, job, config file and selection that exist, and no command needs the virtual
environment before the quick start activates it. test_first_hour.py runs them.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from mock_pipeline.definitions import defs

REPO = Path(__file__).parents[1]
README = REPO / "README.md"
# Installed into the virtual environment by `pip install -e '.[dev]'`: unknown to a fresh shell.
VENV_COMMANDS = {"dagster", "pytest", "ruff", "moto_server", "dagster-celery", "dagster-webserver", "dg"}


@dataclass(frozen=True)
class ShellBlock:
    index: int  # 0-based, in README order
    line: int  # README line of the block's first command
    text: str

    @property
    def commands(self) -> list[list[str]]:
        """Each simple command as words (continuations joined; split on && || ; | and &)."""
        joined = self.text.replace("\\\n", " ")
        commands: list[list[str]] = []
        for raw in joined.splitlines():
            lexer = shlex.shlex(raw, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            current: list[str] = []
            for token in lexer:
                if token in {"&&", "||", ";", "|", "&"}:
                    if current:
                        commands.append(current)
                    current = []
                else:
                    current.append(token)
            if current:
                commands.append(current)
        return commands


def shell_blocks(readme: Path = README) -> list[ShellBlock]:
    """README's ```bash blocks, in order (indented ones inside list items included)."""
    blocks: list[ShellBlock] = []
    lines = readme.read_text().splitlines()
    i = 0
    while i < len(lines):
        fence = re.fullmatch(r"(\s*)```bash\s*", lines[i])
        if fence:
            indent = len(fence.group(1))
            body: list[str] = []
            i += 1
            start = i + 1
            while not lines[i].strip().startswith("```"):
                body.append(lines[i][indent:])
                i += 1
            blocks.append(ShellBlock(len(blocks), start, "\n".join(body) + "\n"))
        i += 1
    return blocks


def option_values(words: list[str], option: str) -> list[str]:
    return [words[i + 1] for i, w in enumerate(words[:-1]) if w == option]


BLOCKS = shell_blocks()


def test_readme_has_the_quick_start_and_test_commands_first() -> None:
    first, second, third = (b.commands for b in BLOCKS[:3])
    # --upgrade-deps: the pip bundled with Python 3.11 refuses the hashed lock's `gql[requests]`.
    assert first[0] == ["python3", "-m", "venv", "--upgrade-deps", ".venv"]
    assert first[1] == [".", ".venv/bin/activate"], "the quick start activates the virtual environment"
    assert ["export", "DAGSTER_HOME=$PWD/dagster_home"] in first, "one instance under the project folder"
    assert first[-1][:3] == ["dagster", "asset", "materialize"]
    assert second[0] == [".", ".venv/bin/activate"], "a new terminal: how to get the same shell back"
    assert third == [["pytest"]]


def test_no_venv_command_before_the_venv_is_active() -> None:
    activated = False
    for block in BLOCKS:
        for words in block.commands:
            if words[:2] == [".", ".venv/bin/activate"] or words[:2] == ["source", ".venv/bin/activate"]:
                activated = True
            name = words[0].split("=")[-1] if "=" in words[0] else words[0]
            if name in VENV_COMMANDS:
                assert activated, f"README line {block.line}: `{name}` runs before the venv is activated"


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: f"line{b.line}")
def test_block_is_valid_bash(block: ShellBlock) -> None:
    result = subprocess.run(["bash", "-n"], input=block.text, text=True, capture_output=True)
    assert result.returncode == 0, f"README line {block.line}: {result.stderr}"


def _dagster_commands() -> list[tuple[ShellBlock, list[str]]]:
    found = []
    for block in BLOCKS:
        for words in block.commands:
            # `VAR=value dagster ...`: the command after the assignments
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words = words[1:]
            if words and words[0] == "dagster":
                found.append((block, words))
    return found


DAGSTER_COMMANDS = _dagster_commands()


def test_readme_has_dagster_commands() -> None:
    assert len(DAGSTER_COMMANDS) >= 6


@pytest.mark.parametrize(
    ("block", "words"), DAGSTER_COMMANDS, ids=lambda x: f"line{x.line}" if isinstance(x, ShellBlock) else ""
)
def test_dagster_command_names_what_exists(block: ShellBlock, words: list[str]) -> None:
    where = f"README line {block.line}: {shlex.join(words)}"
    for path in option_values(words, "-c"):
        written_by_the_block = re.search(rf">\s*{re.escape(path)}\b", block.text)
        assert written_by_the_block or (REPO / path).is_file(), f"{where}: no file {path}"
    for module in option_values(words, "-m"):
        assert (REPO / (module.replace(".", "/") + ".py")).is_file(), f"{where}: no module {module}"
    jobs = {job.name for job in defs.jobs}
    for job in option_values(words, "-j"):
        assert job in jobs, f"{where}: no job {job}"
    if option_values(words, "-m") == ["mock_pipeline.definitions"]:
        graph = defs.resolve_asset_graph()
        for selection in option_values(words, "--select"):
            selected = dg.AssetSelection.from_string(selection).resolve(graph)
            assert selected, f"{where}: {selection!r} selects no asset"
