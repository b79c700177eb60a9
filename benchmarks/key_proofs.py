"""Primary-key rules with the positional proof against the same rules without it, same data, same run.

    python benchmarks/key_proofs.py --preset medium DATA_FOLDER
    python benchmarks/key_proofs.py --preset large DATA_FOLDER --reuse   # tables already generated there

The commerce tables are generated once (outside every timing). Then, for each table with an integer key,
its two key rules (`<key>_unique`, `keys_dense`) run once as written (their `count(DISTINCT)` holds
every key in memory) and once first tried by the proof (`validation.keys_are_positions`: one pass, a
group per file). Both must give the same verdicts. Prints seconds per table and the ratio.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mock_pipeline.domains.commerce import COMMERCE
from mock_pipeline.domains.factory import materialize_table
from mock_pipeline.resources import DataDirResource, ScenarioResource
from mock_pipeline.validation import Rule, run_rules


def timed(dataset: Path, rules: list[Rule]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    verdicts = [o.passed for o in run_rules(dataset, rules, {})]
    return time.perf_counter() - start, verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", type=Path, help="data folder (the dataset is generated under it)")
    parser.add_argument("--preset", default="small", choices=["small", "medium", "large"])
    parser.add_argument("--reuse", action="store_true", help="the tables are already generated in DATA")
    args = parser.parse_args()
    scenario = ScenarioResource(size=args.preset).resolve()
    dataset = DataDirResource(root=str(args.data)).dataset(scenario, COMMERCE.name)
    if not args.reuse:
        for spec in COMMERCE.tables:
            materialize_table(COMMERCE, spec, scenario, dataset)
    print(f"{'table':22s}{'own queries s':>15s}{'with proof s':>14s}{'ratio':>8s}")
    totals = [0.0, 0.0]
    for spec in COMMERCE.tables:
        proved = [r for r in COMMERCE.rules if r.table == spec.name and r.proof is not None]
        if not proved:
            continue
        plain = [Rule(r.table, r.name, r.description, r.sql) for r in proved]
        own, own_verdicts = timed(dataset, plain)
        fast, fast_verdicts = timed(dataset, proved)
        assert own_verdicts == fast_verdicts, (spec.name, own_verdicts, fast_verdicts)
        totals[0] += own
        totals[1] += fast
        print(f"{spec.name:22s}{own:>15.2f}{fast:>14.2f}{own / fast:>7.1f}x", flush=True)
    print(f"{'all tables':22s}{totals[0]:>15.2f}{totals[1]:>14.2f}{totals[0] / totals[1]:>7.1f}x")


if __name__ == "__main__":
    main()
