"""Two strategies' incumbent test scores compared seed by seed (the README's p-values).

Usage: ``python benchmarks/paired.py A B RUN_DIR [RUN_DIR ...]``, e.g.
``python benchmarks/paired.py one-epoch surrogate-hb results/recsys-tabular/recsys-budget50``.
Each RUN_DIR holds a run's ``trials.sqlite`` (tabular runs recreate it with their README
command). Prints, per run, the mean difference (positive: A better), A's wins, losses and ties,
and the Wilcoxon signed-rank p-value (``mfnas.analysis.stats.paired_comparison``).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mfnas.analysis.leaderboard import seed_blocks, seed_outcomes
from mfnas.analysis.stats import paired_comparison
from mfnas.store import Store


def main(a: str, b: str, *run_dirs: str) -> None:
    for run_dir in run_dirs:
        path = Path(run_dir) / "trials.sqlite"
        if not path.is_file():
            sys.exit(f"no trials.sqlite in {run_dir}: rerun its README command first")
        store = Store(path)
        meta = store.meta()
        blocks = seed_blocks(seed_outcomes(store), meta["metric"])
        store.close()
        c = paired_comparison(blocks, a, b, meta["maximize"])
        print(
            f"{run_dir}: {a} - {b} {meta['metric']} {c['mean_difference']:+.4f}, "
            f"wins {c['wins']}, losses {c['losses']}, ties {c['ties']}, "
            f"Wilcoxon p {c['p_value']:.3f}"
        )


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: python benchmarks/paired.py A B RUN_DIR [RUN_DIR ...]")
    main(*sys.argv[1:])
