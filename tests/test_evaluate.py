"""``python -m mfnas.evaluate``: one curve, defaults filled in, bad input refused."""

from __future__ import annotations

import json

import pytest

from mfnas.cli.evaluate import main


def test_evaluate_fills_defaults_for_a_newly_active_branch(capsys) -> None:
    assert main(["--task", "toy", "--epochs", "4", "--config", '{"arch": "deep", "depth": 3}']) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"] == {"arch": "deep", "depth": 3, "width": 16, "lr": 0.01, "x": 0.5}
    assert len(out["curve"]) == 4 and out["val"]["score"] == out["curve"][-1]


@pytest.mark.parametrize(
    ("config", "message"),
    [('{"x": 7}', "not allowed"), ('{"nope": 1}', "Unknown hyperparameter"), ("{x", "invalid")],
)
def test_evaluate_refuses_bad_configs_in_one_line(config, message, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--task", "toy", "--config", config])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
