"""``hyperband``: SMAC's Hyperband facade (random sampling, no model) over epochs."""

from __future__ import annotations

from typing import Any

from smac import HyperbandFacade, Scenario

from mfnas.strategies.smac_adapter import SmacStrategy


class Hyperband(SmacStrategy):
    """SMAC ``HyperbandFacade``: Hyperband (eta=3) over [min_epochs, max_epochs] with
    configurations sampled at random (SMAC starts with the space's default configuration)."""

    name = "hyperband"
    facade = HyperbandFacade
    multi_fidelity = True
    eta = 3

    def _components(self, scenario: Scenario) -> dict[str, Any]:
        return {"intensifier": HyperbandFacade.get_intensifier(scenario, eta=self.eta)}
