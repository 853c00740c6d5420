"""mfnas: multi-fidelity benchmark and surrogate-accelerated joint NAS + HPO search."""

__version__ = "0.1.0"
