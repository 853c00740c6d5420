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
        "batch_size", "user_batch_size", "ae_layers", "ae_width", "ae_activation", "ae_dropout",
        "vae_latent", "vae_beta", "vae_anneal_steps", "dlae_dropout", "dlae_l2",
    }  # fmt: skip
    pairs, autoencoders = {"mf", "gmf", "mlp", "neumf", "lightgcn"}, {"multdae", "multvae", "dlae"}
    assert set(space["model"].choices) == pairs | autoencoders
    assert "full-softmax" in space["loss"].choices
    assert space["embedding_dim"].log and (
        space["embedding_dim"].lower,
        space["embedding_dim"].upper,
    ) == (8, 256)
    assert space["learning_rate"].log and space["weight_decay"].log
    parents = {c.child.name: c.parent.name for c in space.conditions}
    assert parents == {
        **dict.fromkeys(("mlp_layers", "mlp_width", "mlp_dropout", "mlp_activation"), "model"),
        **dict.fromkeys(("gcn_layers", "embedding_dim", "init_std", "loss", "batch_size"), "model"),
        **dict.fromkeys(("user_batch_size", "ae_layers", "ae_width", "ae_activation"), "model"),
        **dict.fromkeys(("ae_dropout", "vae_latent", "vae_beta", "vae_anneal_steps"), "model"),
        **dict.fromkeys(("dlae_dropout", "dlae_l2"), "model"),
        "num_negatives": "loss",
    }
    space.seed(0)
    seen = set()
    for config in space.sample_configuration(300):
        values = dict(config)
        model = values["model"]
        seen.add(model)
        has_mlp = model in ("mlp", "neumf")
        assert ("mlp_width" in values) == has_mlp and ("mlp_layers" in values) == has_mlp
        assert ("gcn_layers" in values) == (model == "lightgcn")
        assert ("embedding_dim" in values) == ("loss" in values) == (model in pairs)
        assert ("user_batch_size" in values) == (model in autoencoders)
        assert ("ae_width" in values) == (model in ("multdae", "multvae"))
        assert ("vae_latent" in values) == (model == "multvae")
        assert ("dlae_l2" in values) == (model == "dlae")
        assert ("num_negatives" in values) == (values.get("loss") in ("bpr", "bce", "softmax"))
    assert seen == pairs | autoencoders


def test_the_recorded_recsys_configurations_are_valid_in_the_extended_space() -> None:
    """The 1,000 configurations recorded before the autoencoders joined the space are valid in
    it unchanged: their models are pair-based, the new hyperparameters inactive for them."""
    from mfnas.replay.modes import recorded_benchmark
    from mfnas.replay.table import TABLE, read_table

    recordings, _ = read_table(recorded_benchmark("recsys") / TABLE)
    space = load_space("recsys")
    assert len(recordings) >= 1000
    for recording in recordings:
        Configuration(space, values=recording.config).check_valid_configuration()


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
