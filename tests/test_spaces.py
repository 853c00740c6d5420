"""The declarative spaces: they load, round-trip, and their conditions are real conditions."""

from __future__ import annotations

import numpy as np
import pytest
from ConfigSpace import Configuration, ConfigurationSpace

from mfnas.spaces import config_key, config_seed, load_space, plain_config, space_hash


@pytest.mark.parametrize("name", ["recsys", "toy"])
def test_space_round_trips_through_yaml(name: str, tmp_path) -> None:
    space = load_space(name)
    path = tmp_path / f"{name}.yaml"
    space.to_yaml(path)
    again = ConfigurationSpace.from_yaml(path)
    assert again == space
    assert space_hash(again) == space_hash(space)


def test_recsys_space_has_the_joint_parameters_and_conditions() -> None:
    space = load_space("recsys")
    assert set(space) >= {
        "model", "embedding_dim", "mlp_layers", "mlp_width", "mlp_dropout", "mlp_activation",
        "gcn_layers", "loss", "num_negatives", "optimizer", "learning_rate", "weight_decay",
        "batch_size",
    }  # fmt: skip
    assert set(space["model"].choices) == {"mf", "gmf", "mlp", "neumf", "lightgcn"}
    assert space["embedding_dim"].log and (
        space["embedding_dim"].lower,
        space["embedding_dim"].upper,
    ) == (8, 256)
    assert space["learning_rate"].log and space["weight_decay"].log
    parents = {c.child.name: c.parent.name for c in space.conditions}
    assert parents == {
        p: "model"
        for p in ("mlp_layers", "mlp_width", "mlp_dropout", "mlp_activation", "gcn_layers")
    }
    space.seed(0)
    for config in space.sample_configuration(300):
        values = dict(config)
        has_mlp = values["model"] in ("mlp", "neumf")
        assert ("mlp_width" in values) == has_mlp and ("mlp_layers" in values) == has_mlp
        assert ("gcn_layers" in values) == (values["model"] == "lightgcn")


def test_plain_config_converts_numpy_types_and_keys_are_stable() -> None:
    space = load_space("toy")
    space.seed(1)
    config = space.sample_configuration()
    plain = plain_config(config)
    assert all(not isinstance(v, np.generic) for v in plain.values())
    assert config_key(config) == config_key(Configuration(space, plain))
    assert config_seed(config, 0) == config_seed(config, 0) != config_seed(config, 1)


def test_unknown_space_name_is_a_clear_error() -> None:
    with pytest.raises(FileNotFoundError, match="no search space named 'nope'"):
        load_space("nope")


def test_a_space_may_fix_a_choice_with_a_constant_of_its_type() -> None:
    from ConfigSpace import Categorical, ConfigurationSpace, Constant, Float

    from mfnas.spaces import SpaceError, check_subspace

    own = ConfigurationSpace()
    own.add(
        [Categorical("w", [32, 64]), Categorical("bn", [True, False]), Float("lr", (1e-4, 0.1))]
    )

    def check(*hps) -> None:
        space = ConfigurationSpace()
        space.add(list(hps))
        check_subspace(space, own, "f.yaml")

    check(Constant("w", 64), Constant("bn", True), Constant("lr", 0.01))
    check(Constant("lr", 1))  # an integer where the task takes floats
    for wrong in (Categorical("w", [64.0]), Constant("w", 65), Constant("bn", "yes")):
        with pytest.raises(SpaceError, match="is not one the task can build"):
            check(wrong)
