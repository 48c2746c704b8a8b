"""What a run produced, as tables: the report (one row per scenario, and a score), every delivery, the scenarios."""

from __future__ import annotations

import html

from .._checks import got
from .._errors import UsageError, UsageTypeError
from .._sending.delivery import Attempt
from ._records import Call

COLUMNS = ("scenario", "passed", "what happened", "hint")


class Report:
    """The result of a run: one row per scenario (scenario, passed, what happened, hint) and a score."""

    def __init__(self, rows: list[dict], handler: str | None):
        import pandas as pd

        if not isinstance(rows, list) or not all(isinstance(r, dict) and set(COLUMNS) <= r.keys() for r in rows):
            raise UsageTypeError(f"rows must be a list of dicts with the keys {', '.join(COLUMNS)}, got {got(rows)}")
        if handler is not None and not isinstance(handler, str):
            raise UsageTypeError(f"handler must be the graded function's name, a str, or None, got {got(handler)}")
        self.handler = handler
        self.table = pd.DataFrame(rows, columns=list(COLUMNS))
        self.table.index = range(1, len(self.table) + 1)

    @property
    def score(self) -> int:
        return int(self.table["passed"].sum())

    @property
    def total(self) -> int:
        return len(self.table)

    @property
    def ok(self) -> bool:
        """Every scenario passed."""
        return self.score == self.total

    @property
    def failed(self) -> list[str]:
        return list(self.table.loc[~self.table["passed"], "scenario"])

    def hint(self, scenario: str) -> str:
        """The hint of one scenario's row, by its name."""
        return str(self._row(scenario)["hint"])

    def happened(self, scenario: str) -> str:
        """What happened in one scenario, by its name."""
        return str(self._row(scenario)["what happened"])

    def _row(self, scenario: str):
        names = list(self.table["scenario"])
        if not isinstance(scenario, str):
            raise UsageTypeError(f"scenario must be a scenario's name, such as {names[0] if names else 'valid event'!r}, "
                                 f"got {got(scenario)}")  # fmt: skip
        if scenario not in names:
            raise UsageError(f"no scenario {scenario!r} in this report: its scenarios are {', '.join(map(repr, names))}")
        return self.table.set_index("scenario").loc[scenario]

    @property
    def score_line(self) -> str:
        who = f" for {self.handler}()" if self.handler else ""
        verdict = "every scenario passes" if self.ok else "read the hint of each failed row"
        return f"Score: {self.score}/{self.total}{who}: {verdict}"

    def submit(self, to=None) -> None:
        """Send this report to your bin on the class server, where the instructor's dashboard shows your latest.

        report.submit()      # the bin this folder joined with wl.join_class(bin_url)
        report.submit(rx)    # rx from wl.Receiver.attach(bin_url), or the bin URL itself

        The score, the total and each scenario's name and verdict are sent; your code is not. Without a
        class (no bin joined, none given) it says so and sends nothing.
        """
        from .._receiving.joining import joined
        from .._receiving.remote import RemoteReceiver

        if to is None:
            to = joined()
            if to is None:  # not a mistake in a notebook without a class: a message, not a traceback
                print(f"Not submitted ({self.score}/{self.total} stays on this machine): there is no class to submit "
                      "to. In a class, join it in the index notebook with wl.join_class(bin_url), or pass your bin "
                      "URL: report.submit(bin_url).")  # fmt: skip
                return
        if isinstance(to, str):
            to = RemoteReceiver(to)
        if not isinstance(to, RemoteReceiver):
            raise (UsageError if callable(getattr(to, "url", None)) else UsageTypeError)(
                "a report is submitted to your bin on a class server: report.submit() in a folder joined with "
                f"wl.join_class(bin_url), or report.submit(bin_url), got {type(to).__name__}: a receiver on "
                "this machine has no instructor to show it to"
            )
        scenarios = [{"scenario": str(name), "passed": bool(passed)}
                     for name, passed in zip(self.table["scenario"], self.table["passed"])]  # fmt: skip
        to._call("POST", "api/challenge", json={"score": self.score, "total": self.total, "scenarios": scenarios})
        print(f"Submitted {self.score}/{self.total} to your bin {to.shown}")

    def __repr__(self) -> str:
        lines = [self.score_line]
        for row in self.table.itertuples(index=False):
            lines.append(f"{'✓' if row.passed else '✗'} {row.scenario}: {row[2]}")
            if row.hint:
                lines.append(f"    hint: {row.hint}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cell = "style='text-align:left;vertical-align:top'"
        rows = "".join(
            f"<tr><td {cell}>{'✓' if row.passed else '✗'}</td><td {cell}>{html.escape(row.scenario)}</td>"
            f"<td {cell}>{html.escape(row[2])}</td><td {cell}>{html.escape(row.hint)}</td></tr>"
            for row in self.table.itertuples(index=False)
        )
        head = "".join(f"<th {cell}>{name}</th>" for name in ("", "scenario", "what happened", "hint"))
        colour = "green" if self.ok else "firebrick"
        return (f"<p style='color:{colour}'><b>{html.escape(self.score_line)}</b></p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")  # fmt: skip


def row(scenario: str, ok: bool, happened: str, hint: str) -> dict:
    """One row of a Report; a passed scenario has no hint."""
    return {"scenario": scenario, "passed": bool(ok), "what happened": happened, "hint": "" if ok else hint}


def deliveries_table(attempts: list[tuple[str, int, Attempt]], calls: list[Call]):
    """Each request sent, beside what the handler did with it: (scenario, delivery) pairs the two."""
    import pandas as pd

    by_request = {(c.scenario, c.delivery): c for c in calls}
    rows = []
    for scenario, number, attempt in attempts:
        call = by_request.get((scenario, number))
        rows.append({
            "scenario": scenario, "delivery": number, "status": attempt.status,
            "answered in (ms)": None if attempt.error else round(attempt.elapsed * 1000, 1),
            "handler took (ms)": round(call.took * 1000, 1) if call else None,
            "problem": attempt.error or (call.error if call else None) or "",
        })  # fmt: skip
    table = pd.DataFrame(rows, columns=["scenario", "delivery", "status", "answered in (ms)",
                                        "handler took (ms)", "problem"])  # fmt: skip
    table["status"] = table["status"].astype("Int64")
    return table


def scenarios_table(scenarios, timeout: float):
    """What the grader sends in each scenario, and what the handler must do, as a DataFrame."""
    import pandas as pd

    rows = [{"scenario": s.name, "the grader sends": s.sends, "your handler must": s.must(timeout)} for s in scenarios]
    return pd.DataFrame(rows).set_index("scenario")


def scenarios_html(scenarios, timeout: float) -> str:
    """The same in full, as HTML (a DataFrame's own view would cut the text short)."""
    cell = "style='text-align:left;vertical-align:top'"
    head = "".join(f"<th {cell}>{name}</th>" for name in ("scenario", "the grader sends", "your handler must"))
    rows = "".join(
        f"<tr><td {cell}><b>{html.escape(s.name)}</b></td><td {cell}>{html.escape(s.sends)}</td>"
        f"<td {cell}>{html.escape(s.must(timeout))}</td></tr>"
        for s in scenarios
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
