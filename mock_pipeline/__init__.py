"""mock_pipeline: realistic, reproducible mock data as Dagster assets."""

from typing import Any

_LAZY = ("MockDataset",)


def __getattr__(name: str) -> Any:
    # Lazy: `mock_pipeline.MockDataset` (what defs.yaml names) without importing Dagster for the engine.
    if name == "MockDataset":
        from mock_pipeline.mock_dataset import MockDataset

        return MockDataset
    raise AttributeError(f"module 'mock_pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    # dg's component registry lists a registry module's members with dir().
    return sorted([*globals(), *_LAZY])
