"""mock_pipeline: realistic, reproducible mock data as Dagster assets."""

from typing import Any


def __getattr__(name: str) -> Any:
    # Lazy: `mock_pipeline.MockDataset` (what defs.yaml names) without importing Dagster for the engine.
    if name == "MockDataset":
        from mock_pipeline.mock_dataset import MockDataset

        return MockDataset
    raise AttributeError(f"module 'mock_pipeline' has no attribute {name!r}")
