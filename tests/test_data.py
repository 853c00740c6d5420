"""MovieLens-100K loading: every source that can run offline, verification, cache, errors."""

from __future__ import annotations

import io
import logging
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mfnas.data import movielens
from mfnas.data.movielens import (
    CACHE_FILE,
    GROUPLENS_URL,
    ML100K_SHA256,
    DataError,
    content_sha256,
    load_ml100k,
    load_ml100k_with_source,
)

WHEEL_LABEL = "recbole==1.2.1 wheel"
GROUPLENS_LABEL = f"GroupLens {GROUPLENS_URL}"


def _never(*_args: object) -> np.ndarray:
    raise AssertionError("a download was attempted")


@pytest.fixture(scope="module")
def wheel_fetch(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, str, Path, Path]:
    """One real fetch through the recbole-wheel fallback into a fresh cache.

    GroupLens is forced to fail so the wheel path runs whether or not that host is reachable.
    Returns (ratings, source label, cache folder, the temporary root pip downloaded under).
    """
    cache_dir = tmp_path_factory.mktemp("wheel-cache")
    scratch = tmp_path_factory.mktemp("scratch")
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MFNAS_DATA_DIR", raising=False)
        mp.setattr(tempfile, "tempdir", str(scratch))

        def grouplens_down() -> np.ndarray:
            raise DataError("unreachable (forced by the test)")

        mp.setattr(movielens, "_fetch_grouplens", grouplens_down)
        ratings, source = load_ml100k_with_source(cache_dir=cache_dir)
    return ratings, source, cache_dir, scratch


@pytest.fixture
def ratings(wheel_fetch: tuple[np.ndarray, str, Path, Path]) -> np.ndarray:
    """The verified canonical ratings (a copy, so a test may not spoil the others)."""
    return wheel_fetch[0].copy()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the user's environment variables or their real ~/.cache/mfnas."""
    monkeypatch.delenv("MFNAS_DATA_DIR", raising=False)
    monkeypatch.delenv("MFNAS_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any download attempt fails the test."""
    monkeypatch.setattr(movielens, "_fetch_grouplens", _never)
    monkeypatch.setattr(movielens, "_fetch_recbole_wheel", _never)


def _write_u_data(folder: Path, rows: np.ndarray) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savetxt(folder / "u.data", rows, fmt="%d", delimiter="\t")
    return folder


def _shuffled(ratings: np.ndarray, seed: int = 0) -> np.ndarray:
    return ratings[np.random.default_rng(seed).permutation(len(ratings))]


def _assert_ml100k(ratings: np.ndarray) -> None:
    assert ratings.dtype == np.int64
    assert ratings.shape == (100_000, 4)
    assert ratings.flags.c_contiguous
    assert len(np.unique(ratings[:, 0])) == 943
    assert len(np.unique(ratings[:, 1])) == 1682
    assert (ratings[:, 0].min(), ratings[:, 0].max()) == (1, 943)
    assert (ratings[:, 1].min(), ratings[:, 1].max()) == (1, 1682)
    assert set(np.unique(ratings[:, 2]).tolist()) == {1, 2, 3, 4, 5}
    assert ratings[:, 2].sum() == 352_986  # the published mean rating is 3.52986
    keys = ratings[:, 0] * 10_000 + ratings[:, 1]
    assert np.all(np.diff(keys) > 0)  # sorted by (user, item), no duplicate pair
    assert content_sha256(ratings) == ML100K_SHA256


def test_wheel_fallback_fetches_verified_data_and_fills_cache(
    wheel_fetch: tuple[np.ndarray, str, Path, Path],
) -> None:
    ratings, source, cache_dir, scratch = wheel_fetch
    assert source == WHEEL_LABEL
    _assert_ml100k(ratings)
    assert ratings[0].tolist() == [1, 1, 5, 874965758]
    assert ratings[-1].tolist() == [943, 1330, 3, 888692465]
    assert sorted(p.name for p in cache_dir.iterdir()) == [CACHE_FILE]  # no temp file left
    with np.load(cache_dir / CACHE_FILE) as npz:
        np.testing.assert_array_equal(npz["ratings"], ratings)
    assert list(scratch.iterdir()) == []  # the pip download folder was removed


def test_data_dir_argument(tmp_path: Path, ratings: np.ndarray, offline: None) -> None:
    folder = _write_u_data(tmp_path / "ml-100k", _shuffled(ratings))
    cache_dir = tmp_path / "cache"
    loaded, source = load_ml100k_with_source(data_dir=folder, cache_dir=cache_dir)
    assert source == f"u.data in {folder}"
    np.testing.assert_array_equal(loaded, ratings)
    assert (cache_dir / CACHE_FILE).is_file()  # a local fetch refreshes the cache too


def test_data_dir_from_environment(
    tmp_path: Path, ratings: np.ndarray, offline: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _write_u_data(tmp_path / "ml-100k", _shuffled(ratings, seed=1))
    monkeypatch.setenv("MFNAS_DATA_DIR", str(folder))
    monkeypatch.setenv("MFNAS_CACHE_DIR", str(tmp_path / "cache"))
    loaded, source = load_ml100k_with_source()
    assert source == f"u.data in {folder} (MFNAS_DATA_DIR)"
    np.testing.assert_array_equal(loaded, ratings)
    assert (tmp_path / "cache" / CACHE_FILE).is_file()


def test_cache_hit_touches_no_network(
    wheel_fetch: tuple[np.ndarray, str, Path, Path],
    offline: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache_dir = wheel_fetch[2]
    monkeypatch.setenv("MFNAS_CACHE_DIR", str(cache_dir))
    with caplog.at_level(logging.INFO, logger=movielens.__name__):
        loaded, source = load_ml100k_with_source()
    assert source == f"cache {cache_dir / CACHE_FILE}"
    np.testing.assert_array_equal(loaded, wheel_fetch[0])
    assert f"MovieLens-100K from cache {cache_dir / CACHE_FILE}" in caplog.messages
    np.testing.assert_array_equal(load_ml100k(cache_dir=cache_dir, download=False), loaded)


def test_default_cache_is_under_home(tmp_path: Path, ratings: np.ndarray, offline: None) -> None:
    folder = _write_u_data(tmp_path / "ml-100k", ratings)
    load_ml100k(data_dir=folder)
    assert (tmp_path / "home" / ".cache" / "mfnas" / CACHE_FILE).is_file()
    assert load_ml100k_with_source(download=False)[1].startswith("cache ")


def _drop_first_row(r: np.ndarray) -> np.ndarray:
    return r[1:]


def _merge_last_user(r: np.ndarray) -> np.ndarray:
    r[r[:, 0] == 943, 0] = 942
    return r


def _merge_last_item(r: np.ndarray) -> np.ndarray:
    r[r[:, 1] == 1682, 1] = 1681
    return r


def _six_stars(r: np.ndarray) -> np.ndarray:
    r[7, 2] = 6
    return r


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_drop_first_row, "99,999 ratings, expected 100,000"),
        (_merge_last_user, "942 users, expected 943"),
        (_merge_last_item, "1,681 items, expected 1,682"),
        (_six_stars, "ratings span 1..6, expected 1..5"),
    ],
)
def test_bad_data_dir_is_an_error_naming_the_problem(
    damage: Callable[[np.ndarray], np.ndarray],
    problem: str,
    tmp_path: Path,
    ratings: np.ndarray,
    offline: None,
    wheel_fetch: tuple[np.ndarray, str, Path, Path],
) -> None:
    folder = _write_u_data(tmp_path / "ml-100k", damage(ratings))
    # a good cache exists, but the folder the user asked for wins and fails loudly
    with pytest.raises(DataError) as info:
        load_ml100k(data_dir=folder, cache_dir=wheel_fetch[2])
    assert str(info.value) == f"u.data in {folder}: {problem}"


def test_changed_rating_fails_the_checksum(
    tmp_path: Path, ratings: np.ndarray, offline: None
) -> None:
    ratings[500, 2] = 1 if ratings[500, 2] != 1 else 2
    folder = _write_u_data(tmp_path / "ml-100k", ratings)
    with pytest.raises(DataError, match=r"content sha256 [0-9a-f]{12}\.\.\. differs") as info:
        load_ml100k(data_dir=folder, cache_dir=tmp_path / "cache")
    assert str(info.value).startswith(f"u.data in {folder}: ")
    assert not (tmp_path / "cache").exists()  # nothing unverified is ever cached


def test_missing_u_data_is_an_error(tmp_path: Path, offline: None) -> None:
    with pytest.raises(DataError, match=r"^u\.data in .*empty: no such file$"):
        load_ml100k(data_dir=tmp_path / "empty")


def test_unparsable_u_data_is_an_error(tmp_path: Path, offline: None) -> None:
    (tmp_path / "u.data").write_text("196\t242\t3\t881250949\nnot a rating\n")
    with pytest.raises(DataError, match=r"unparsable ratings") as info:
        load_ml100k(data_dir=tmp_path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong content", "floats"])
def test_corrupt_cache_is_ignored_and_replaced(
    damage: str,
    tmp_path: Path,
    ratings: np.ndarray,
    wheel_fetch: tuple[np.ndarray, str, Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = tmp_path / "cache" / CACHE_FILE
    cache.parent.mkdir()
    good = (wheel_fetch[2] / CACHE_FILE).read_bytes()
    if damage == "garbage":
        cache.write_bytes(b"not an npz file at all")
    elif damage == "truncated":
        cache.write_bytes(good[: len(good) // 2])
    elif damage == "wrong content":
        np.savez_compressed(cache, ratings=ratings[:-1])
    else:
        np.savez_compressed(cache, ratings=ratings.astype(np.float64))
    monkeypatch.setattr(movielens, "_fetch_grouplens", lambda: _shuffled(ratings, seed=2))
    monkeypatch.setattr(movielens, "_fetch_recbole_wheel", _never)
    with caplog.at_level(logging.WARNING, logger=movielens.__name__):
        loaded, source = load_ml100k_with_source(cache_dir=cache.parent)
    assert source == GROUPLENS_LABEL
    np.testing.assert_array_equal(loaded, ratings)
    assert any(m.startswith(f"ignoring cache {cache}: ") for m in caplog.messages)
    with np.load(cache) as npz:  # overwritten by the good fetch
        np.testing.assert_array_equal(npz["ratings"], ratings)
    assert sorted(p.name for p in cache.parent.iterdir()) == [CACHE_FILE]


def test_unwritable_cache_warns_and_continues(
    tmp_path: Path,
    ratings: np.ndarray,
    offline: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = _write_u_data(tmp_path / "ml-100k", ratings)
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING, logger=movielens.__name__):
        loaded = load_ml100k(data_dir=folder, cache_dir=blocker / "cache")
    np.testing.assert_array_equal(loaded, ratings)
    assert any("could not write the MovieLens-100K cache" in m for m in caplog.messages)


def test_nothing_works_names_every_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    empty = tmp_path / "no-data-here"
    empty.mkdir()
    monkeypatch.setenv("MFNAS_DATA_DIR", str(empty))

    def grouplens_down() -> np.ndarray:
        raise DataError("unreachable ([Errno -3] Temporary failure\nin name resolution)")

    def pip_down() -> np.ndarray:
        raise DataError("pip download failed (ERROR: No matching distribution found)")

    monkeypatch.setattr(movielens, "_fetch_grouplens", grouplens_down)
    monkeypatch.setattr(movielens, "_fetch_recbole_wheel", pip_down)
    cache_dir = tmp_path / "cache"
    with (
        caplog.at_level(logging.WARNING, logger=movielens.__name__),
        pytest.raises(DataError) as info,
    ):
        load_ml100k(cache_dir=cache_dir)
    message = str(info.value)
    assert "\n" not in message
    for part in (
        "no MovieLens-100K source worked: ",
        f"u.data in {empty} (MFNAS_DATA_DIR): no such file; ",
        f"cache {cache_dir / CACHE_FILE}: no such file; ",
        f"{GROUPLENS_LABEL}: unreachable ([Errno -3] Temporary failure in name resolution); ",
        f"{WHEEL_LABEL}: pip download failed (ERROR: No matching distribution found)",
    ):
        assert part in message
    assert any("MFNAS_DATA_DIR" in m for m in caplog.messages)  # the bad env folder was logged


def test_download_false_skips_downloads(tmp_path: Path, offline: None) -> None:
    with pytest.raises(DataError) as info:
        load_ml100k(cache_dir=tmp_path, download=False)
    assert str(info.value) == (
        f"no MovieLens-100K source worked: cache {tmp_path / CACHE_FILE}: no such file; "
        "downloads skipped (download=False)"
    )


def _zip_with(member: str, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, payload)
    return buffer.getvalue()


class _Response(io.BytesIO):
    """What urlopen returns, enough for the GroupLens fetcher."""


def test_grouplens_zip_is_read_in_memory(
    tmp_path: Path, ratings: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = io.BytesIO()
    np.savetxt(rows, _shuffled(ratings, seed=3), fmt="%d", delimiter="\t")
    payload = _zip_with("ml-100k/u.data", rows.getvalue())
    seen: list[tuple[str, float]] = []

    def urlopen(url: str, timeout: float) -> _Response:
        seen.append((url, timeout))
        return _Response(payload)

    monkeypatch.setattr(movielens.urllib.request, "urlopen", urlopen)
    monkeypatch.setattr(movielens, "_fetch_recbole_wheel", _never)
    loaded, source = load_ml100k_with_source(cache_dir=tmp_path)
    assert seen == [(GROUPLENS_URL, 15.0)]
    assert source == GROUPLENS_LABEL
    np.testing.assert_array_equal(loaded, ratings)


def test_grouplens_bad_zip_falls_through_with_reason(
    tmp_path: Path, ratings: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = _zip_with("ml-100k/README", b"no ratings here")
    monkeypatch.setattr(
        movielens.urllib.request, "urlopen", lambda url, timeout: _Response(payload)
    )
    monkeypatch.setattr(movielens, "_fetch_recbole_wheel", lambda: ratings)
    loaded, source = load_ml100k_with_source(cache_dir=tmp_path)
    assert source == WHEEL_LABEL
    np.testing.assert_array_equal(loaded, ratings)
    monkeypatch.setattr(movielens, "_fetch_recbole_wheel", lambda: ratings[:10])
    (tmp_path / CACHE_FILE).unlink()
    with pytest.raises(DataError) as info:
        load_ml100k(cache_dir=tmp_path)
    assert f"{GROUPLENS_LABEL}: bad zip (" in str(info.value)
    assert f"{WHEEL_LABEL}: 10 ratings, expected 100,000" in str(info.value)
