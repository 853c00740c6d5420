"""The command-line programs: ``python -m mfnas.bench``, ``report``, ``collect``,
``fit_surrogate`` and ``evaluate`` (each a thin ``mfnas/<name>.py`` entry that calls its module
here), and what they share (``mfnas.cli.common``)."""
