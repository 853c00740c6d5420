"""``smac-gp``: SMAC's black-box facade (Gaussian process + expected improvement), full fidelity."""

from __future__ import annotations

from smac import BlackBoxFacade

from mfnas.strategies.smac_adapter import SmacStrategy


class SmacGP(SmacStrategy):
    """SMAC ``BlackBoxFacade`` at max epochs: its Gaussian process (a Matérn kernel over the
    numerical hyperparameters, a Hamming kernel over the categorical ones, inactive ones
    imputed) with expected improvement, after a Sobol initial design of at most a quarter of
    the full trainings the budget affords. The GP posterior mean is the design documents'
    Bayesian method (§4.2)."""

    name = "smac-gp"
    facade = BlackBoxFacade
