"""The levers tried on the MF/BPR epoch: ``python benchmarks/perf/mf_levers.py``.

One process, one torch thread; each variant trains the space's default MF-BPR (embedding 64,
batch 1,024, Adam lr 1e-3, weight decay 1e-6, 1 negative) on the ML-100K training split, and
the variants and the plain PyTorch yardstick (``yardstick.py``) take turns epoch by epoch, so
what else runs on the machine slows them alike; it prints each one's median epoch and the
yardstick's epoch time over it:

- ``fused``: ``Trainer._epoch`` as shipped (Adam's fused CPU kernel);
- ``foreach`` / ``plain``: Adam's multi-tensor and per-parameter paths instead;
- ``compile``: ``torch.compile`` of the model's scoring (inductor, after one warm-up epoch,
  whose time it also prints: every new model of a search would pay it).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # yardstick.py beside this file
from yardstick import make_yardstick, yardstick_epoch

from mfnas.tasks.recsys.config import RecsysConfig
from mfnas.tasks.recsys.models import build_model
from mfnas.tasks.recsys.task import RecsysTask
from mfnas.tasks.recsys.train import Trainer
from mfnas.tasks.training import seeded


def main() -> None:
    torch.set_num_threads(1)
    task = RecsysTask(device="cpu")
    split = task.split
    cpu = torch.device("cpu")
    tr = Trainer(split, cpu)
    cfg = RecsysConfig(
        model="mf",
        optimizer="adam",
        learning_rate=1e-3,
        weight_decay=1e-6,
        embedding_dim=64,
        init_std=0.1,
        loss="bpr",
        num_negatives=1,
        batch_size=1024,
    )

    def variant(kind):
        with seeded(cpu, 0) as gen:
            model = build_model(cfg, split.n_users, split.n_items, split.train)
            if kind == "foreach":
                opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6, foreach=True)
            elif kind == "plain":
                opt = torch.optim.Adam(
                    model.parameters(), lr=1e-3, weight_decay=1e-6, foreach=False
                )
            else:
                opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6, fused=True)
            if kind == "compile":
                model.score_pairs = torch.compile(model.score_pairs, dynamic=False)
            return model, opt, gen

    runs = {k: variant(k) for k in ("fused", "foreach", "plain", "compile")}
    users = torch.as_tensor(split.train[:, 0])
    items = torch.as_tensor(split.train[:, 1])
    times = {k: [] for k in [*runs, "yardstick"]}
    y_model, y_opt, y_gen = make_yardstick(split.n_users, split.n_items, 64, 0.1, 1e-3, 1e-6, 0)
    t0 = time.perf_counter()
    try:
        tr._epoch(*runs["compile"][:2], cfg, runs["compile"][2])
        print("compile warm-up epoch", round(time.perf_counter() - t0, 2), "s")
    except Exception as exc:
        print("compile failed:", type(exc).__name__, str(exc).splitlines()[0][:200])
        runs.pop("compile")
        times.pop("compile")
    for _ in range(5):
        for k, (m, o, g) in runs.items():
            began = time.perf_counter()
            tr._epoch(m, o, cfg, g)
            times[k].append(time.perf_counter() - began)
        began = time.perf_counter()
        yardstick_epoch(y_model, y_opt, users, items, 1024, y_gen)
        times["yardstick"].append(time.perf_counter() - began)
    base = statistics.median(times["yardstick"])
    for k, v in times.items():
        median = statistics.median(v)
        print(f"{k:10s} median {median:.3f} s  yardstick/this {base / median:.2f}x")


if __name__ == "__main__":
    main()
