"""What a run's store says: leaderboards, statistics, plots, importance, the report and the
suite of runs side by side. Reads the store only."""
