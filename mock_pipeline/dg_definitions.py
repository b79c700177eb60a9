"""The project's code location for `dg`, `dagster dev` ([tool.dagster]) and workspace.yaml: the
built-in domains plus the MockDataset components a user scaffolds into mock_pipeline/defs, which use
their resources. `mock_pipeline.definitions` stays importable alone (the built-in domains only).
"""

from pathlib import Path

import dagster as dg

from mock_pipeline.definitions import defs as built_in


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(built_in, dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
