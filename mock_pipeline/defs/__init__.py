"""Components of this code location: `dg scaffold defs mock_pipeline.MockDataset <name>` adds one here."""
