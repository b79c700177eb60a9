"""Seed 001's toggle: MOCK_DATA_ENABLED=false stops schedules and sensors from starting runs.

Read when a schedule or sensor is evaluated (never at import), so flipping the variable in the
daemon's environment takes effect on the next tick without touching the definitions.
"""

import os
from collections.abc import Mapping

MOCK_DATA_ENABLED_ENV = "MOCK_DATA_ENABLED"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def disabled_reason(env: Mapping[str, str] | None = None) -> str | None:
    """Why mock data must not be made or written now, or None when it is enabled (the default)."""
    raw = (os.environ if env is None else env).get(MOCK_DATA_ENABLED_ENV)
    if raw is None or raw.strip() == "":
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return None
    if value in _FALSE:
        return f"{MOCK_DATA_ENABLED_ENV}={raw.strip()}: mock data is disabled in this environment"
    # An unreadable switch must not be read as "on": skip, and say what is allowed.
    return f"{MOCK_DATA_ENABLED_ENV}={raw.strip()!r} is not a boolean; allowed: true, false, 1, 0, yes, no, on, off"
