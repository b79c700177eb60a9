"""Secrets never reach a message: scrub first, then cut, and echo little of what a server said.

Every publisher that holds a secret (S3 keys, a database password, an API key, a Pinecone key) passes
text from the outside world (error bodies, driver messages) through `scrub` before it is logged,
raised or stored. Cutting before scrubbing is the bug this module exists for: a cut through the
middle of a key leaves a prefix that no longer matches the whole key.
"""

import json
import re
import urllib.parse
from collections.abc import Iterable

MASK = "***"
# A fragment shorter than this is not worth hiding (and would mask ordinary words of short secrets).
MIN_FRAGMENT = 4
# What a user needs from a server's error body: its message, not the whole document.
EXCERPT_CHARS = 160


def forms(secret: str) -> set[str]:
    """The secret as written and as it may be echoed: URL-quoted, unquoted, JSON-escaped."""
    variants = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret),
                urllib.parse.unquote(secret), json.dumps(secret)[1:-1]}  # fmt: skip
    return {v for v in variants if len(v) >= MIN_FRAGMENT}


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret masked, including a piece of one cut off at either end of `text`
    (someone else's truncation: a driver's or a server's own)."""
    variants = sorted({v for s in secrets if s for v in forms(s)}, key=len, reverse=True)
    for variant in variants:
        text = text.replace(variant, MASK)
    for variant in variants:
        for size in range(len(variant) - 1, MIN_FRAGMENT - 1, -1):
            if text.endswith(variant[:size]):
                text = text[:-size] + MASK
                break
        for size in range(len(variant) - 1, MIN_FRAGMENT - 1, -1):
            if text.startswith(variant[-size:]):
                text = MASK + text[size:]
                break
    return text


def excerpt(body: str, secrets: Iterable[str | None], limit: int = EXCERPT_CHARS) -> str:
    """A short, scrubbed, one-line excerpt of a server's answer: its JSON `error`/`message` when it
    has one, else the start of the body. Scrubbed before it is cut, never after."""
    text = body
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict):
        for key in ("error", "message", "detail", "Message", "Error"):
            if isinstance(answer.get(key), str):
                text = answer[key]
                break
    text = re.sub(r"\s+", " ", scrub(text, secrets)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
