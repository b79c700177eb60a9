"""The test tiers themselves: conftest.py's hooks, run on a throwaway suite with pytest's pytester."""

from pathlib import Path

import pytest

CONFTEST = (Path(__file__).parent / "conftest.py").read_text()
SUITE = """
import pytest

def test_needs_a_server(postgres_url):
    pass

def test_pure():
    pass

@pytest.mark.slow
def test_runs_subprocesses():
    pass

def test_skips():
    pytest.skip("chromium not installed (apt-get install chromium)")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    # Never start a real PostgreSQL here: the module's own fixture of that name keeps the name (and so the tier).
    pytester.makepyfile(
        test_suite=SUITE + "\n\n@pytest.fixture\ndef postgres_url():\n    return 'postgresql://unused'\n"
    )
    monkeypatch.delenv("CI", raising=False)
    return pytester


def test_server_and_slow_tests_are_in_the_integration_tier(suite: pytest.Pytester) -> None:
    unit = suite.runpytest("-m", "not integration")
    unit.assert_outcomes(passed=1, skipped=1, deselected=2)
    integration = suite.runpytest("-m", "integration")
    integration.assert_outcomes(passed=2, deselected=2)


def test_a_skip_is_a_failure_under_ci(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    by_hand = suite.runpytest("-k", "skips", "-rs")
    by_hand.assert_outcomes(skipped=1, deselected=3)
    by_hand.stdout.fnmatch_lines(["SKIPPED*chromium not installed (apt-get install chromium)"])

    monkeypatch.setenv("CI", "true")
    in_ci = suite.runpytest("-k", "skips")
    in_ci.assert_outcomes(failed=1, deselected=3)
    in_ci.stdout.fnmatch_lines(["*skipped under CI=true, which must run every test*chromium not installed*"])
