"""Contract suites: prove a new strategy, task or executor by subclassing its suite.

As Optuna ships ``optuna/testing/``, mfnas ships the invariants every component must keep as
pytest classes; a test module subclasses one and names the component under test:

- ``mfnas.testing.strategy.StrategySuite``: the Strategy ask/tell contract, live and in both
  replay modes (fixture ``strategy_name``);
- ``mfnas.testing.task.TaskSuite``: the Task contract of ``evaluate``, ``space`` and
  ``references`` (fixtures ``task`` and ``config``);
- ``mfnas.testing.executor.ExecutorSuite``: the Executor contract of ``submit``, ``wait`` and
  ``now`` (fixture ``make_executor``).

The suites read shared session fixtures (recorded toy curves, toy replay tasks) from the
plugin ``mfnas.testing.fixtures``: register it in the ``conftest.py`` of the tests that
subclass a suite with ``pytest_plugins = ["mfnas.testing.fixtures"]``. Importing this package
is light (the suites are in their submodules), so that Dask workers can unpickle the test
tasks of ``mfnas.testing.toys``.
"""

import pytest

pytest.register_assert_rewrite(
    "mfnas.testing.executor",
    "mfnas.testing.fixtures",
    "mfnas.testing.strategy",
    "mfnas.testing.task",
)
