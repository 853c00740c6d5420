"""What a run's store says: leaderboards, statistics, plots, importance, the report and the
suite of runs side by side. Each run's store is read once into a ``view.RunView``; everything
else is computed from that view, and pages are rendered from ``templates/``."""
