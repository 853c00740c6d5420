"""Running studies: the runner (ask, evaluate, record, tell under a budget), the executors that
evaluate (serial in this process, Dask workers, simulated workers on a replay clock)."""
