"""Time lines of attempts: spans said as a person would, and plots whose crowded labels never overlap.

A retry schedule spans days while its first retries are seconds apart, so the
plots of a policy (RetryPolicy.plot) and of a delivery (Delivery.plot) gather
neighbouring labels into one. matplotlib loads only when something is drawn.
"""

from __future__ import annotations

from .._checks import got
from .._errors import UsageTypeError
from .._exports import course

MINUTE, HOUR, DAY = 60, 3600, 86400
SINGLE_ATTEMPT_AXIS = 10  # seconds shown for a policy with one attempt: enough room for its note


def axes(ax):
    """`ax` as given to a plot: None (a new figure) or a matplotlib Axes to draw on."""
    if ax is not None and not all(hasattr(ax, name) for name in ("scatter", "set_xlim", "annotate")):
        raise UsageTypeError(
            f"ax must be a matplotlib Axes to draw on, such as plt.subplots()[1], or None, got {got(ax)}"
        )
    return ax


def pyplot():
    """matplotlib's pyplot, the `lab` extra's: loaded on the first plot, or an error that says how to install it."""
    return course("matplotlib.pyplot", "plots")


def plot_policy(policy, ax=None):
    """A policy's attempts on a time line, as if every one failed.

    Early retries are seconds apart on an axis of days, so their numbers are gathered into one
    label per crowded run ("1–5"), and the axis label says how early that run is over.
    """
    plt = pyplot()

    if axes(ax) is None:
        _, ax = plt.subplots(figsize=(9, 1.8))
    offsets = policy.offsets()
    ax.set_yticks([])
    if policy.attempts == 1:  # one point has no span: show the first seconds, and say why nothing follows
        ax.plot([0], [0], "o", color="tab:blue")
        ax.annotate("1", (0, 0), textcoords="offset points", xytext=(0, 8), ha="center")
        note = "one attempt, no retries"
        if policy.redeliver_within:
            note += f" (a person can redeliver within {duration(policy.redeliver_within)})"
        ax.annotate(note, (0, 0), textcoords="offset points", xytext=(12, -4), ha="left", color="dimgray")
        ax.set_xlim(-1, SINGLE_ATTEMPT_AXIS)
        ax.set_xlabel("time after the first attempt (seconds)")
        ax.set_title(f"{policy.name}: one attempt, no retries")
        return ax
    unit, label = time_unit(offsets[-1])
    xs = [o / unit for o in offsets]
    ax.plot(xs, [0] * len(xs), "o-", color="tab:blue")
    ax.set_xlim(*((-0.03 * xs[-1], 1.03 * xs[-1]) if xs[-1] else (-1, SINGLE_ATTEMPT_AXIS)))  # all at once: seconds
    runs = annotate_runs(ax, xs, [str(n) for n in range(1, len(xs) + 1)],
                         join=lambda texts: f"{texts[0]}–{texts[-1]}")  # fmt: skip
    where = ""
    crowded = [(first, last) for first, last in runs if last > first]
    if crowded and crowded[0][0] == 0:
        last = crowded[0][1]
        where = f"; attempts 1–{last + 1} fall within the first {duration(offsets[last])}"
    ax.set_xlabel(f"time after the first attempt ({label}){where}")
    ax.set_title(f"{policy.name}: {policy.attempts} attempt(s) over {duration(offsets[-1])}")
    return ax


def label_runs(positions, label, width, *, gap: float = 4.0) -> list[tuple[int, int]]:
    """Runs of neighbouring points whose labels would overlap, as (first, last) indices, left to right.

    `positions` are increasing screen positions; `label(first, last)` is the text of a run and
    `width(text)` its width, in the same unit. A run's label sits at the middle of the run. Runs
    merge with their neighbour until every label has `gap` to spare on either side.
    """
    runs = [(i, i) for i in range(len(positions))]

    def extent(run):
        middle, half = (positions[run[0]] + positions[run[1]]) / 2, width(label(*run)) / 2
        return middle - half, middle + half

    merged = True
    while merged:
        merged = False
        for k in range(len(runs) - 1):
            if extent(runs[k])[1] + gap > extent(runs[k + 1])[0]:
                runs[k : k + 2] = [(runs[k][0], runs[k + 1][1])]
                merged = True
                break
    return runs


def annotate_runs(ax, xs, texts, *, join, fontsize: float = 10, above: float = 8) -> list[tuple[int, int]]:
    """Label points on a horizontal time line without overlaps: crowded neighbours share one label.

    Early retries are seconds apart on an axis of days, so their labels would print on top of one
    another. `join(texts)` writes the label of a run of several points. Set the x limits first: the
    positions on screen are computed from them and from the axes' current width. Returns the runs.
    """
    low, high = ax.get_xlim()
    figure = ax.get_figure()
    points_wide = figure.get_figwidth() * ax.get_position().width * 72
    positions = [(x - low) / ((high - low) or 1) * points_wide for x in xs]

    def label(first, last):
        return texts[first] if first == last else join(texts[first : last + 1])

    def width(text):
        return 0.65 * fontsize * len(text) + 2  # digits are about 0.64 em wide in the default font

    runs = label_runs(positions, label, width)
    for first, last in runs:
        ax.annotate(label(first, last), ((xs[first] + xs[last]) / 2, 0), textcoords="offset points",
                    xytext=(0, above), ha="center", fontsize=fontsize)  # fmt: skip
    return runs


def tally(texts) -> str:
    """Neighbouring equal texts counted: ["500", "500", "500", "200"] -> "500 ×3, 200"."""
    counted: list[list] = []
    for text in texts:
        if counted and counted[-1][0] == text:
            counted[-1][1] += 1
        else:
            counted.append([text, 1])
    return ", ".join(text if n == 1 else f"{text} ×{n}" for text, n in counted)


def duration(seconds: float) -> str:
    """3 d 2 h, 5 min, 40 s: a span as a person would say it."""
    seconds = round(seconds)
    if seconds < MINUTE:
        return f"{seconds} s"
    parts = []
    for size, unit in ((DAY, "d"), (HOUR, "h"), (MINUTE, "min"), (1, "s")):
        if seconds >= size:
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
    return " ".join(parts[:2])


def time_unit(span: float) -> tuple[float, str]:
    for size, label in ((DAY, "days"), (HOUR, "hours"), (MINUTE, "minutes")):
        if span >= 2 * size:
            return size, label
    return 1, "seconds"
