"""Export and serving, at the level a user works at: a small live run made by the bench CLI,
``python -m mfnas.export`` on it, and a real ``python -m mfnas.serve`` process talked to over
HTTP on a free loopback port.

The runs' reference rows (EASE, SVMs) are left out (patched to none): they cost most of a
small run's time and play no part in what is exported.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import schemathesis
import torch
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from mfnas.cli.bench import main as bench
from mfnas.cli.export import main as export
from mfnas.cli.serve import main as serve
from mfnas.deploy.bundle import read_bundle
from mfnas.deploy.served import Classes, Ratings
from mfnas.store import Store
from mfnas.tasks.image import ImageTask
from mfnas.tasks.rating import RatingTask
from mfnas.tasks.recsys import RecsysTask
from mfnas.testing.server import Client, live_run, running_server

CPU = torch.device("cpu")


def _incumbent(run: Path):
    with Store(run / "trials.sqlite", readonly=True) as store:
        records = [r for r in store.records() if r.epochs == 2 and r.status.value == "ok"]
    return records[0]


@pytest.fixture(scope="module")
def recsys_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    run = live_run(tmp_path_factory.mktemp("run") / "recsys", "recsys", "grid")  # an MLP
    model = tmp_path_factory.mktemp("model") / "recsys-model"
    assert export([str(run), "--out", str(model)]) == 0
    return run, model


@pytest.fixture(scope="module")
def client(recsys_model: tuple[Path, Path]) -> Iterator[Client]:
    with running_server(recsys_model[1]) as (host, port):
        client = Client(host, port)
        yield client
        client.close()


def test_the_export_reproduces_the_runs_record_and_describes_itself(
    recsys_model: tuple[Path, Path],
) -> None:
    run, model = recsys_model
    record = _incumbent(run)
    bundle = read_bundle(model)
    manifest = bundle.manifest
    assert manifest["metrics"] == {"val": record.val, "test": record.test}  # bitwise
    assert manifest["reproduces_record"] is True
    assert manifest["config"] == record.config and manifest["epochs"] == 2
    assert manifest["source"]["trial"] == record.trial_id
    assert manifest["data"]["dataset"] == "MovieLens-100K" and manifest["data"]["split_seed"] == 0
    assert set(bundle.arrays) == {"raw_users", "raw_items", "train", "seen", "popularity"}
    assert len(bundle.arrays["raw_users"]) == 943 and len(bundle.arrays["raw_items"]) == 1682
    assert len(bundle.arrays["seen"]) == 80_808 + 9_596  # training and validation pairs
    card = (model / "MODEL.md").read_text()
    assert "equal the run's record" in card and f"{record.test['ndcg@10']:.4f}" in card


def test_through_the_api_the_test_users_rankings_score_the_exports_test_ndcg(
    recsys_model: tuple[Path, Path], client: Client
) -> None:
    split = RecsysTask().split
    raw_users = read_bundle(recsys_model[1]).arrays["raw_users"]
    raw_items = read_bundle(recsys_model[1]).arrays["raw_items"]
    discount = 1.0 / np.log2(np.arange(2, 12))
    per_user = []
    for user in np.unique(split.test[:, 0]):
        targets = set(raw_items[split.test[split.test[:, 0] == user, 1]].tolist())
        status, answer = client.post(
            "/recommend", {"user": int(raw_users[user]), "k": 10, "exclude_seen": True}
        )
        assert status == 200 and not answer["fallback"] and len(answer["items"]) == 10
        hits = np.array([item in targets for item in answer["items"]], dtype=float)
        per_user.append(hits @ discount / discount[: min(len(targets), 10)].sum())
    exported = read_bundle(recsys_model[1]).manifest["metrics"]["test"]["ndcg@10"]
    assert math.isclose(float(np.mean(per_user)), exported, rel_tol=1e-12)


BAD_REQUESTS = [
    # (what, path, raw body, status, a word the error names)
    ("malformed JSON", "/recommend", b'{"user": 1,', 422, "not valid JSON"),
    ("not an object", "/recommend", b"[1, 2]", 422, "JSON object"),
    ("user missing", "/recommend", b'{"k": 3}', 422, "user"),
    ("user a string", "/recommend", b'{"user": "196"}', 422, "user"),
    ("user a float", "/recommend", b'{"user": 1.5}', 422, "user"),
    ("k a string", "/recommend", b'{"user": 196, "k": "10"}', 422, "k"),
    ("k zero", "/recommend", b'{"user": 196, "k": 0}', 422, "k"),
    ("k negative", "/recommend", b'{"user": 196, "k": -3}', 422, "k"),
    ("k above the items", "/recommend", b'{"user": 196, "k": 1683}', 422, "1682"),
    ("exclude_seen not a bool", "/recommend", b'{"user": 1, "exclude_seen": "yes"}', 422, "seen"),
    ("an unexpected field", "/recommend", b'{"user": 196, "top": 5}', 422, "top"),
    ("feedback on an unknown item", "/feedback", b'{"user": 196, "items": [99999]}', 404, "99999"),
    ("feedback with no items", "/feedback", b'{"user": 196, "items": []}', 422, "items"),
    ("an oversized body", "/recommend", b'{"user": 1, "x": "' + b"a" * 70_000 + b'"}', 413, "over"),
    ("no such path", "/predict", b'{"user": 1, "item": 1}', 404, "Not Found"),
]


@pytest.mark.parametrize(
    ("path", "body", "status", "named"),
    [case[1:] for case in BAD_REQUESTS],
    ids=[case[0] for case in BAD_REQUESTS],
)
def test_bad_input_gets_a_4xx_json_error_naming_it_and_the_server_goes_on(
    client: Client, path: str, body: bytes, status: int, named: str
) -> None:
    got, answer = client.request("POST", path, raw=body)
    assert got == status and named in answer["error"]
    assert client.get("/healthz") == (200, {"status": "ok"})


def test_an_unknown_user_gets_the_most_popular_items_flagged(
    recsys_model: tuple[Path, Path], client: Client
) -> None:
    arrays = read_bundle(recsys_model[1]).arrays
    popular = arrays["raw_items"][np.argsort(-arrays["popularity"], kind="stable")[:5]]
    status, answer = client.post("/recommend", {"user": 10**6, "k": 5})
    assert status == 200 and answer["fallback"] is True
    assert answer["scores"] == sorted(answer["scores"], reverse=True)
    assert set(answer["items"]) <= set(popular.tolist()) | set(answer["items"][-1:])


def test_seen_items_are_excluded_only_when_asked(client: Client) -> None:
    _, shown = client.post("/recommend", {"user": 196, "k": 1682, "exclude_seen": False})
    _, unseen = client.post("/recommend", {"user": 196, "k": 1682})
    assert len(shown["items"]) == 1682 > len(unseen["items"])
    assert set(unseen["items"]) < set(shown["items"])


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_feedback_feeds_the_online_hit_rate_in_the_metrics(client: Client) -> None:
    last = client.post("/recommend", {"user": 7, "k": 1682})[1]["items"][-1]
    _, answer = client.post("/recommend", {"user": 7, "k": 10})  # what feedback compares with
    assert client.post("/feedback", {"user": 7, "items": [answer["items"][3]]})[1]["hit"] is True
    assert client.post("/feedback", {"user": 7, "items": [last]})[1]["hit"] is False
    assert client.post("/feedback", {"user": 10**7, "items": [1]})[1]["recommended"] is False
    status, text = client.get("/metrics")
    assert status == 200
    hits = _metric(text, 'mfnas_feedback_total{outcome="hit"}')
    misses = _metric(text, 'mfnas_feedback_total{outcome="miss"}')
    assert hits >= 1 and misses >= 1
    assert _metric(text, "mfnas_online_hit_rate") == pytest.approx(hits / (hits + misses))
    assert _metric(text, 'mfnas_requests_total{endpoint="/feedback",status="200"}') >= 3
    assert _metric(text, 'mfnas_requests_total{endpoint="/recommend",status="413"}') >= 1
    assert 'mfnas_model_info{created="' in text and "mfnas_request_seconds_bucket" in text


def test_health_readiness_version_and_the_openapi_page(
    recsys_model: tuple[Path, Path], client: Client
) -> None:
    assert client.get("/readyz") == (200, {"ready": True})
    status, version = client.get("/version")
    assert status == 200 and version["metrics"] == read_bundle(recsys_model[1]).manifest["metrics"]
    status, schema = client.get("/openapi.json")
    assert status == 200 and {"/recommend", "/feedback", "/metrics"} <= set(schema["paths"])
    assert client.get("/docs")[0] == 200


def test_export_and_serve_refuse_bad_input_in_one_line(
    recsys_model: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run, model = recsys_model
    cases = [
        (export, [str(tmp_path / "nothing"), "--out", str(tmp_path / "m")], "holds no run"),
        (export, [str(run), "--out", str(model)], "not empty"),
        (export, [str(run), "--strategy", "smac-hb", "--out", str(tmp_path / "m")], "smac-hb"),
        (export, [str(run), "--out", str(run), "--overwrite"], "not a model folder"),
        (
            export,
            [str(run), "--seed", "0", "--strategy", "random", "--out", str(tmp_path / "m")],
            "--strategy random --seed 0",
        ),
        (serve, [str(tmp_path)], "not a model folder"),
        (serve, [str(model), "--port", "70000"], "port"),
    ]
    before = {path.name: path.read_bytes() for path in model.iterdir()}
    run_before = {path.name: path.stat().st_mtime_ns for path in run.iterdir()}
    for main, argv, named in cases:
        with pytest.raises(SystemExit) as stopped:
            main(argv)
        error = capsys.readouterr().err.strip()
        assert stopped.value.code == 2 and named in error and "\n" not in error, error
    assert {path.name: path.read_bytes() for path in model.iterdir()} == before
    assert {path.name: path.stat().st_mtime_ns for path in run.iterdir()} == run_before
    assert not (tmp_path / "m").exists()


def test_a_toy_run_has_no_model_to_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--task", "toy", "--strategies", "random", "--budget", "1", "--seeds", "1"]
    assert bench([*argv, "--out", str(tmp_path / "toy"), "--quiet"]) == 0
    with pytest.raises(SystemExit) as stopped:
        export([str(tmp_path / "toy"), "--out", str(tmp_path / "m")])
    assert stopped.value.code == 2 and "trains no model" in capsys.readouterr().err


def test_a_left_checkpoint_is_continued_and_gives_the_same_model(
    recsys_model: tuple[Path, Path], tmp_path: Path
) -> None:
    """A study that did not finish leaves checkpoints; the export continues the furthest one
    of its configuration (here one written as the run would have, after epoch 1)."""
    from ConfigSpace import Configuration

    from mfnas.execution.benchmark import CHECKPOINTS
    from mfnas.execution.checkpoints import checkpoint_identity, checkpoint_path, save_checkpoint
    from mfnas.spaces import config_seed

    run, model = recsys_model
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("trials.sqlite", "run.json"):
        (copy / name).write_bytes((run / name).read_bytes())
    record = _incumbent(run)
    task = RecsysTask(max_epochs=2)
    config = Configuration(task.space, values=record.config)
    seed = config_seed(config, record.seed)
    first = task.evaluate(config, 1, seed, keep=True)
    with sqlite3.connect(copy / "trials.sqlite") as db:  # the 1-epoch trial the file belongs to
        row = db.execute("SELECT * FROM trials WHERE trial_id = ?", (record.trial_id,)).fetchone()
        columns = [c[1] for c in db.execute("PRAGMA table_info(trials)")]
        values = dict(zip(columns, row, strict=True))
        extra = {
            **json.loads(values["extra"]),
            "train_loss": list(first.extra["train_loss"]),
            "epoch_seconds": list(first.epoch_seconds),
        }
        values.update(
            trial_id=99, epochs=1, curve=json.dumps(list(first.curve)), extra=json.dumps(extra)
        )
        db.execute(
            f"INSERT INTO trials VALUES ({','.join('?' * len(values))})", list(values.values())
        )
    folder = copy / CHECKPOINTS / f"{record.strategy}-seed{record.seed}"
    folder.mkdir(parents=True)
    path = checkpoint_path(folder, config, 1, 99)
    save_checkpoint(str(path), first.state, checkpoint_identity(task, config, seed, 1))
    out = tmp_path / "model"
    assert export([str(copy), "--out", str(out)]) == 0
    manifest = read_bundle(out).manifest
    assert manifest["training"]["continued_from"] == 1
    assert manifest["metrics"] == read_bundle(model).manifest["metrics"]


@pytest.mark.parametrize("task", ["image", "recsys-rating"])
def test_every_trained_task_exports_a_model_that_scores_as_recorded(
    task: str, tmp_path: Path
) -> None:
    run = live_run(tmp_path / "run", task, "grid")
    out = tmp_path / "model"
    assert export([str(run), "--out", str(out)]) == 0
    bundle = read_bundle(out)
    assert bundle.manifest["reproduces_record"] is True
    test = bundle.manifest["metrics"]["test"]
    if task == "image":
        from sklearn.datasets import load_digits

        split, served = ImageTask().split, Classes(bundle, CPU)
        raw = load_digits().images[:, None]  # the raw pixels the split scaled
        got = [served.classify(raw[i, 0].tolist())["class"] for i in split.test]
        assert np.mean(np.array(got) == split.labels[split.test]) == test["accuracy"]
        answer = served.classify(raw[split.test[0], 0].tolist())
        assert math.isclose(sum(answer["probabilities"].values()), 1.0, rel_tol=1e-9)
    else:
        split, served = RatingTask().split, Ratings(bundle, CPU)
        raw_users, raw_items = bundle.arrays["raw_users"], bundle.arrays["raw_items"]
        users, items = raw_users[split.test[:, 0]].tolist(), raw_items[split.test[:, 1]].tolist()
        predicted, fallback = served.predict_many(users, items)
        rmse = float(np.sqrt(np.mean((predicted.astype(float) - split.test[:, 2]) ** 2)))
        assert not any(fallback)
        assert math.isclose(rmse, test["rmse"], rel_tol=1e-6)
        assert served.predict(10**6, int(raw_items[0]))["fallback"] is True
    with running_server(out) as (host, port):
        client = Client(host, port)
        endpoint = bundle.manifest["serving"]["endpoint"]
        if task == "image":
            status, answer = client.post(f"/{endpoint}", {"pixels": raw[split.test[0], 0].tolist()})
            assert status == 200 and answer["label"] in bundle.manifest["serving"]["classes"]
            wrong = {"pixels": [[0.0] * 3] * 3}
            assert client.post(f"/{endpoint}", wrong)[0] == 422
            assert client.post(f"/{endpoint}", {"pixels": [[99.0] * 8] * 8})[0] == 422
            assert client.post(f"/{endpoint}", {"pixels": [[0.0] * 8, [0.0]]})[0] == 422
        else:
            user, item = int(raw_users[0]), int(raw_items[0])
            status, answer = client.post(f"/{endpoint}", {"user": user, "item": item})
            assert status == 200 and 1.0 <= answer["rating"] <= 5.0
            assert client.post(f"/{endpoint}", {"user": user, "item": 10**6})[0] == 404
        client.close()


@pytest.fixture(scope="module")
def api_schema(client: Client) -> schemathesis.BaseSchema:
    host, port = client.connection.host, client.connection.port
    return schemathesis.openapi.from_url(f"http://{host}:{port}/openapi.json")


OPERATIONS = [
    *((path, "POST", mode) for path in ("/recommend", "/feedback") for mode in GenerationMode),
    *((path, "GET", GenerationMode.POSITIVE) for path in ("/healthz", "/readyz", "/version")),
    ("/metrics", "GET", GenerationMode.POSITIVE),
]


@pytest.mark.parametrize(
    ("path", "method", "mode"), OPERATIONS, ids=[f"{m} {p} {g.value}" for p, m, g in OPERATIONS]
)
def test_the_api_keeps_its_openapi_contract_on_generated_requests(
    api_schema: schemathesis.BaseSchema, path: str, method: str, mode: GenerationMode
) -> None:
    """Property-based, from the server's own OpenAPI schema (schemathesis, derandomized so
    every run sends the same requests): schema-valid requests are accepted, invalid ones get a
    documented 4xx, answers match their schema, and nothing is a server error."""

    @given(case=api_schema[path][method].as_strategy(generation_mode=mode))
    @settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate()

    check()


def test_a_fashion_model_classifies_raw_pixels_as_its_export_scored_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On random images in Fashion-MNIST's place (the export path is the real one)."""
    import mfnas.data.fashion_mnist
    import mfnas.tasks.fashion.task
    from mfnas.tasks.fashion import FashionTask
    from mfnas.testing.fixtures import synthetic_fashion

    data = synthetic_fashion()
    monkeypatch.setattr(mfnas.data.fashion_mnist, "load_fashion_mnist", lambda *a: data)
    monkeypatch.setattr(mfnas.tasks.fashion.task, "N_TRAIN", 150)  # grid's batch is 128
    monkeypatch.setattr(mfnas.tasks.fashion.task, "N_VAL", 50)
    run = live_run(tmp_path / "run", "fashion")
    out = tmp_path / "model"
    assert export([str(run), "--out", str(out)]) == 0
    bundle = read_bundle(out)
    assert bundle.manifest["reproduces_record"] is True
    assert bundle.manifest["serving"]["pixel_range"] == [0.0, 255.0]
    assert bundle.manifest["serving"]["classes"][9] == "Ankle boot"
    split, served = FashionTask().split, Classes(bundle, CPU)
    got = [served.classify(image.tolist())["class"] for image in data.test_images]
    assert (
        float(np.mean(np.array(got) == split.labels[split.test]))
        == (bundle.manifest["metrics"]["test"]["accuracy"])
    )


def test_a_text_model_classifies_a_document_as_its_export_scored_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On synthetic documents in 20 Newsgroups' place (the export path is the real one)."""
    import mfnas.data.newsgroups
    import mfnas.tasks.text.task
    from mfnas.deploy.served import Topics
    from mfnas.tasks.text import TextTask, TextTrainer
    from mfnas.testing.fixtures import synthetic_corpus

    monkeypatch.setattr(mfnas.data.newsgroups, "load_newsgroups", lambda *a: synthetic_corpus())
    monkeypatch.setattr(mfnas.tasks.text.task, "N_VAL", 60)
    run = live_run(tmp_path / "run", "text")
    out = tmp_path / "model"
    assert export([str(run), "--out", str(out)]) == 0
    bundle = read_bundle(out)
    assert bundle.manifest["reproduces_record"] is True
    corpus, split = synthetic_corpus(), TextTask().split
    served = Topics(bundle, CPU)
    assert f"# text model: {served.config.encoder}" in (out / "MODEL.md").read_text()
    inputs = TextTrainer(split, CPU).parts(served.config)["test"][0]
    with torch.inference_mode():  # the model on the test part as the evaluation batched it
        batched = torch.softmax(served.model(inputs).double(), dim=1)
    predicted = batched.argmax(dim=1).numpy()
    accuracy = float(np.mean(predicted == split.labels[split.test]))
    assert accuracy == bundle.manifest["metrics"]["test"]["accuracy"]
    for row, i in enumerate(split.test):  # one document at a time, as served
        answer = served.classify(corpus.test[i - len(corpus.train)][1])
        got = np.array(list(answer["probabilities"].values()))
        np.testing.assert_allclose(got, batched[row].numpy(), atol=1e-5)
    with running_server(out) as (host, port):
        client = Client(host, port)
        status, answer = client.post("/classify", {"text": "WAB wac, WAD! " + corpus.test[0][1]})
        assert status == 200 and answer["label"] in corpus.groups
        assert client.post("/classify", {"text": "42 ... !!"})[0] == 422  # no words
        assert client.post("/classify", {"pixels": [[0]]})[0] == 422
        client.close()
