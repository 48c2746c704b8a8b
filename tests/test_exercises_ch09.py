"""The checks of OPTIONAL-09.00, and the captured data set they read."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest
from lab_under_test import run_solution

from webhooklab.exercises import ch09

ROOT = Path(__file__).parent.parent
CAPTURED = ROOT / "datasets" / "captured"


@pytest.fixture(scope="module")
def attempts():
    return ch09.load_attempts()


@pytest.fixture(scope="module")
def deliveries(attempts):
    return ch09.per_delivery(attempts)


# -- the data set ---------------------------------------------------------------------------------


def test_the_data_set_is_small_and_every_column_is_documented(monkeypatch):
    csv = CAPTURED / "attempts.csv"
    assert csv.stat().st_size < 2 * 1024 * 1024
    header = csv.read_text(encoding="utf-8").splitlines()[0].split(",")
    spec = importlib.util.spec_from_file_location("generate", CAPTURED / "generate.py")
    generate = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "generate", generate)  # dataclasses look their module up there
    spec.loader.exec_module(generate)  # defines the columns, does not run
    assert header == generate.COLUMNS
    documented = re.findall(r"^\| `(\w+)` \|", (CAPTURED / "README.md").read_text(encoding="utf-8"), re.MULTILINE)
    assert [c for c in documented if c in header] == header


def test_the_data_set_is_consistent(attempts, deliveries):
    assert set(attempts["provider"]) == {"stripe", "github", "shopify", "standard"}
    assert attempts["request_id"].is_unique
    assert len(attempts) >= 300
    for _, rows in attempts.groupby("delivery"):
        assert list(rows["attempt"]) == list(range(1, len(rows) + 1))
        assert (rows["final_status"].iloc[-1] == "delivered") == bool(rows["ok"].iloc[-1])
        assert not rows["ok"].iloc[:-1].any()  # a delivery stops at its first success
    retries = attempts[attempts["attempt"] > 1]
    assert retries["receiver_duplicate"].all()  # a retry carries the same delivery id
    timeouts = attempts[attempts["status"].isna()]
    assert len(timeouts) and (timeouts["receiver_status"] == 200).all()  # processed, but answered too late
    assert set(deliveries["final_status"]) >= {"delivered", "exhausted", "failed"}


def test_dataset_path_finds_the_file_from_the_repository_and_from_elsewhere(monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT / "notebooks")
    assert ch09.dataset_path() == Path("..", "datasets", "captured", "attempts.csv")
    monkeypatch.chdir(tmp_path)
    assert ch09.dataset_path().resolve() == (CAPTURED / "attempts.csv").resolve()  # the shipped copy
    (tmp_path / "datasets" / "captured").mkdir(parents=True)
    (tmp_path / "datasets" / "captured" / "attempts.csv").write_text("delivery\n")
    assert ch09.dataset_path() == Path("datasets", "captured", "attempts.csv")  # the workshop's own copy first


def test_dataset_path_says_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing.csv is not in any of: .*webhooklab lab"):
        ch09.dataset_path("missing.csv")


# -- exercise 1: p95 latency per provider -----------------------------------------------------------


def test_the_p95_solution_passes(attempts, capsys):
    answer = run_solution("09.00-p95-latency.py", attempts=attempts)["p95_latency"]
    assert ch09.check_p95_latency(answer) is True
    assert "✓ 95% of attempts were answered within these times. shopify is slowest" in capsys.readouterr().out


def test_a_list_of_one_quantile_and_a_one_column_table_are_accepted(attempts, capsys):
    grouped = attempts.groupby("provider")["elapsed_s"]
    assert ch09.check_p95_latency(grouped.quantile([0.95])) is True
    assert ch09.check_p95_latency(grouped.quantile(0.95).to_frame()) is True


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda a: None, "set `p95_latency` in the cell above"),
        (lambda a: a["elapsed_s"].quantile(0.95), "a single number"),
        (
            lambda a: a.groupby("endpoint")["elapsed_s"].quantile(0.95),
            "one value per endpoint; the question asks for one per provider",
        ),
        (lambda a: a.groupby("provider")["elapsed_s"].median(), "those are medians"),
        (lambda a: a.groupby("provider")["elapsed_s"].mean(), "those are averages"),
        (lambda a: a.groupby("provider")["elapsed_s"].quantile(0.95) * 1000, "milliseconds"),
        (lambda a: a.groupby("provider")[["elapsed_s", "after_first_s"]].quantile(0.95), "select one column"),
        (lambda a: a.groupby("provider")["elapsed_s"].quantile(0.9), "the values are not right yet: for"),
        (lambda a: [0.1, 0.2], "should be a pandas Series"),
    ],
    ids=["none", "scalar", "per-endpoint", "median", "mean", "ms", "two-columns", "p90", "list"],
)
def test_wrong_p95_answers_get_a_hint(attempts, capsys, wrong, hint):
    assert ch09.check_p95_latency(wrong(attempts)) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet:") and hint in out


# -- exercise 2: share of deliveries retried per event type --------------------------------------------


def test_the_retried_share_solution_passes(deliveries, capsys):
    answer = run_solution("09.00-retried-share.py", deliveries=deliveries)["retried_share"]
    assert ch09.check_retried_share(answer) is True
    assert "✓ contact.updated stands out: 100% of its deliveries needed a retry" in capsys.readouterr().out


def test_another_way_to_write_it_passes(deliveries, capsys):
    answer = deliveries.assign(retried=deliveries["attempts"] > 1).groupby("event_type")["retried"].mean()
    assert ch09.check_retried_share(answer) is True


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (
            lambda a, d: (a["attempt"] > 1).groupby(a["event_type"]).mean(),
            "you counted attempts (rows of the file), not deliveries",
        ),
        (lambda a, d: (d["attempts"] > 1).groupby(d["event_type"]).sum(), "the question asks for the share"),
        (lambda a, d: (d["attempts"] > 1).groupby(d["event_type"]).mean() * 100, "not a percentage"),
        (lambda a, d: (d["attempts"] >= 1).groupby(d["event_type"]).mean(), "more than one (> 1)"),
        (lambda a, d: (d["attempts"] == 1).groupby(d["event_type"]).mean(), "did NOT need a retry"),
        (
            lambda a, d: (d["attempts"] > 1).groupby(d["endpoint"]).mean(),
            "one value per endpoint; the question asks for one per event type",
        ),
        (lambda a, d: (d["attempts"] > 1).mean(), "a single number"),
    ],
    ids=["attempt-rows", "count", "percent", "at-least-one", "inverted", "per-endpoint", "scalar"],
)
def test_wrong_retried_shares_get_a_hint(attempts, deliveries, capsys, wrong, hint):
    assert ch09.check_retried_share(wrong(attempts, deliveries)) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ Not yet:") and hint in out


def test_a_learner_exception_never_escapes_a_check(capsys):
    assert ch09.check_retried_share("contact.updated") is False
    assert "should be a pandas Series" in capsys.readouterr().out
