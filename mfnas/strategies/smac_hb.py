"""``smac-hb``: SMAC's multi-fidelity facade (model-based Hyperband, BOHB-style) over epochs."""

from __future__ import annotations

from typing import Any

from smac import MultiFidelityFacade, Scenario

from mfnas.strategies.smac_adapter import SmacStrategy


class SmacHyperband(SmacStrategy):
    """SMAC ``MultiFidelityFacade``: Hyperband (eta=3) over [min_epochs, max_epochs] whose
    configurations come from a random forest + EI once observations allow."""

    name = "smac-hb"
    facade = MultiFidelityFacade
    multi_fidelity = True
    eta = 3

    def _components(self, scenario: Scenario) -> dict[str, Any]:
        return {
            "model": self._forest(),
            "intensifier": MultiFidelityFacade.get_intensifier(scenario, eta=self.eta),
        }
