"""Seed 004's data API: `mock-pipeline serve` (FastAPI, OpenAPI page at /docs)."""

from mock_pipeline.api.app import create_app

__all__ = ["create_app"]
