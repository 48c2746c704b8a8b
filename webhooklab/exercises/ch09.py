"""Checks for OPTIONAL-09.00-analyse-captured-events, and where its data set is.

The data set is datasets/captured/attempts.csv (made by generate.py beside
it). A learner's workshop has datasets/ beside the notebooks; the repository
has it one folder up; an installed package carries a copy. Each check
computes its expected answer from that same file.
"""

from __future__ import annotations

from pathlib import Path

from .._workshop import shipped
from . import failed, guarded, passed

NOTEBOOK = "OPTIONAL-09.00-analyse-captured-events"  # the notebook whose exercises these are: each verdict names it

READ_OPTIONS = {"parse_dates": ["sent_at"], "dtype": {"status": "Int64"}}


def dataset_path(name: str = "attempts.csv") -> Path:
    """The captured data set: datasets/captured/<name> here, one folder up, or inside the installed package."""
    tried = [Path("datasets", "captured", name), Path("..", "datasets", "captured", name)]
    try:
        tried.append(shipped("datasets") / "captured" / name)
    except FileNotFoundError:
        pass
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{name} is not in any of: {', '.join(str(p) for p in tried)}. Start the workshop with `webhooklab lab`, "
        "which copies datasets/ beside the notebooks, or run datasets/captured/generate.py to make it again."
    )


def load_attempts(name: str = "attempts.csv"):
    """The data set as a DataFrame, read the way the notebook reads it."""
    import pandas as pd

    return pd.read_csv(dataset_path(name), **READ_OPTIONS)


def per_delivery(attempts):
    """One row per delivery: its provider, endpoint and event type, and how many attempts it took."""
    return attempts.groupby("delivery").agg(
        provider=("provider", "first"),
        endpoint=("endpoint", "first"),
        event_type=("event_type", "first"),
        attempts=("attempt", "size"),
        final_status=("final_status", "first"),
    )


@guarded()
def check_p95_latency(answer) -> bool:
    """`answer`: the 95th percentile of elapsed_s per provider, as a Series indexed by provider."""
    attempts = load_attempts()
    by_provider = attempts.groupby("provider")["elapsed_s"]
    expected = by_provider.quantile(0.95)
    series, problem = _series(answer, "p95_latency", expected, other_index={"endpoint": attempts["endpoint"]})
    if problem:
        return failed(problem)
    mistakes = {
        "those are medians (quantile(0.5)); the 95th percentile is quantile(0.95)": by_provider.median(),
        "those are averages (mean); the 95th percentile is quantile(0.95)": by_provider.mean(),
        "those are the largest values (max); the 95th percentile is quantile(0.95)": by_provider.max(),
        "those look like milliseconds: keep elapsed_s in seconds": expected * 1000,
    }
    if not _same(series, expected):
        return failed(_wrong(series, expected, mistakes, unit=" s"))
    slowest = expected.idxmax()
    return passed(
        f"95% of attempts were answered within these times. {slowest} is slowest at {expected[slowest]:.2f} s: "
        "compare that with how long it waits for an answer (Shopify 5 s, GitHub 10 s, Standard Webhooks 15 s)."
    )


@guarded()
def check_retried_share(answer) -> bool:
    """`answer`: per event type, the share of deliveries that needed more than one attempt."""
    attempts = load_attempts()
    deliveries = per_delivery(attempts)
    retried = deliveries["attempts"] > 1
    expected = retried.groupby(deliveries["event_type"]).mean()
    others = {"endpoint": attempts["endpoint"], "provider": attempts["provider"]}
    series, problem = _series(answer, "retried_share", expected, other_index=others)
    if problem:
        return failed(problem)
    mistakes = {
        "you counted attempts (rows of the file), not deliveries: use the `deliveries` table, one row per "
        "delivery, and its attempts column": (attempts["attempt"] > 1).groupby(attempts["event_type"]).mean(),
        "that is how many deliveries were retried; the question asks for the share: .mean() of a True/False "
        "column gives it": retried.groupby(deliveries["event_type"]).sum(),
        "give a fraction from 0 to 1, not a percentage": expected * 100,
        "every delivery has at least one attempt: 'needed a retry' means more than one (> 1)":
            (deliveries["attempts"] >= 1).groupby(deliveries["event_type"]).mean(),
        "those are the deliveries that did NOT need a retry: compare with > 1": 1 - expected,
    }  # fmt: skip
    if not _same(series, expected):
        return failed(_wrong(series, expected, mistakes))
    worst = expected.idxmax()
    return passed(
        f"{worst} stands out: {expected[worst]:.0%} of its deliveries needed a retry. When one event type fails "
        "and the others at the same endpoint do not, suspect the code that handles that type, not the network."
    )


# -- helpers ----------------------------------------------------------------------------------


def _series(answer, name: str, expected, *, other_index: dict):
    """(the answer as a Series indexed like `expected`, None) or (None, a hint about its shape)."""
    import pandas as pd

    column = expected.index.name
    wanted = column.replace("_", " ")
    if answer is None:
        return None, f"set `{name}` in the cell above: one value per {wanted}."
    if isinstance(answer, pd.DataFrame):
        if answer.shape[1] != 1:
            return None, (
                f"`{name}` is a table with columns {list(answer.columns)}; select one column before computing, "
                f"so that you get one number per {wanted}."
            )
        answer = answer.iloc[:, 0]
    if isinstance(answer, (int, float)):
        return None, f"`{name}` is a single number ({answer:.4g}) for everything together; group by {column!r} first."
    if not isinstance(answer, pd.Series):
        return (
            None,
            f"`{name}` should be a pandas Series (one value per {wanted}), but it is a {type(answer).__name__}.",
        )
    if (
        isinstance(answer.index, pd.MultiIndex)
        and answer.index.nlevels == 2
        and answer.index.get_level_values(1).nunique() == 1
    ):
        answer = answer.droplevel(1)  # quantile([0.95]) leaves the 0.95 as a second index level
    got = set(map(str, answer.index))
    if got == set(map(str, expected.index)):
        return answer, None
    for other, column in other_index.items():
        if got == set(map(str, column.unique())):
            return None, f"`{name}` has one value per {other}; the question asks for one per {wanted}."
    names = ", ".join(expected.index)
    return None, f"`{name}` should have one value for each {wanted} ({names}), but its index is {sorted(got)}."


def _same(answer, expected) -> bool:
    import numpy as np

    answer = answer.rename(index=str).sort_index()
    try:
        values = answer.to_numpy(dtype=float)
    except (TypeError, ValueError):
        return False
    return bool(np.allclose(values, expected.sort_index().to_numpy(dtype=float), rtol=1e-6, atol=1e-9))


def _wrong(answer, expected, mistakes: dict, unit: str = "") -> str:
    for hint, values in mistakes.items():
        if _same(answer, values):
            return hint + "."
    answer = answer.rename(index=str)
    key = next((k for k in expected.index if not _close(answer[k], expected[k])), expected.index[0])
    return (
        f"the values are not right yet: for {key} it should be {expected[key]:.4g}{unit}, and yours is {answer[key]!r}."
    )


def _close(a, b) -> bool:
    try:
        return abs(float(a) - float(b)) <= 1e-9 + 1e-6 * abs(float(b))
    except (TypeError, ValueError):
        return False
