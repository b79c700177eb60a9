"""MockDataset: mock data for the user's own schema, declared in YAML (issue 16)."""

from mock_pipeline.mock_dataset.component import MockDataset, example_yaml
from mock_pipeline.mock_dataset.spec import DatasetSpec, SpecError, load_spec, register_generator

__all__ = ["DatasetSpec", "MockDataset", "SpecError", "example_yaml", "load_spec", "register_generator"]
