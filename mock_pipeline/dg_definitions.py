"""What `dg` loads ([tool.dg] in pyproject.toml): the built-in domains plus the components under defs/.

`mock_pipeline.definitions` stays the code location of `dagster dev` and workspace.yaml; this module
adds the MockDataset components a user scaffolds into mock_pipeline/defs, which use its resources.
"""

from pathlib import Path

import dagster as dg

from mock_pipeline.definitions import defs as built_in


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions.merge(built_in, dg.load_from_defs_folder(path_within_project=Path(__file__).parent))
