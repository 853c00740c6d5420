"""``smac-bo``: SMAC's hyperparameter-optimisation facade (random forest + EI), full fidelity."""

from __future__ import annotations

from typing import Any

from smac import HyperparameterOptimizationFacade, Scenario

from mfnas.strategies.smac_adapter import SmacStrategy


class SmacBO(SmacStrategy):
    """SMAC ``HyperparameterOptimizationFacade`` at max epochs.

    SMAC's trial limit is the number of full trainings the budget affords, so its Sobol
    initial design takes at most a quarter of them and the forest guides the rest.
    """

    name = "smac-bo"
    facade = HyperparameterOptimizationFacade

    def _components(self, scenario: Scenario) -> dict[str, Any]:
        return {"model": self._forest()}
