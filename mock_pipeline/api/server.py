"""Starting the data API: loopback by default; any other address only with MOCK_PIPELINE_API_KEY set."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

from mock_pipeline.api.app import API_KEY_ENV, create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class ServeError(ValueError):
    """The server refuses to start: one line naming the setting."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_key_for(host: str, env: dict[str, str] | None = None) -> str | None:
    """The key requests must carry: required off loopback; on loopback used when set."""
    key = (os.environ if env is None else env).get(API_KEY_ENV) or None
    if key is None and not is_loopback(host):
        raise ServeError(
            f"--host {host}: binding an address other than loopback needs {API_KEY_ENV} set; "
            f"allowed without it: 127.0.0.1, ::1, localhost"
        )
    return key


def serve(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, data_dir: Path | None = None) -> None:
    """Run the API with uvicorn until interrupted (the key is read here and never logged)."""
    import uvicorn

    app = create_app(data_dir, api_key=api_key_for(host))
    uvicorn.run(app, host=host, port=port, log_level="info")
