"""Every registered signature scheme side by side: what is signed, how, where, for how long, and the retries.

The table is read from the registry each time it is asked for, so a provider
added with register() has its row at once. Each column comes from what the
provider class states (signs, algorithm, digest_encoding, signature_header,
window, replay_defence) and from its retry policy; what a provider does not
state shows as "—", never as a guess.
"""

from __future__ import annotations

from functools import cache

from .._sending.timeline import duration
from .base import Provider
from .registry import PROVIDERS

MISSING = "—"
# column: the Provider attribute it shows (None: worked out below)
COLUMNS = {
    "signs": "signs",
    "algorithm": "algorithm",
    "encoding": "digest_encoding",
    "signature header": "signature_header",
    "timestamp window": None,
    "replay defence": "replay_defence",
    "retry policy": None,
}


def schemes():
    """The registered providers' signature schemes, one row each, as a pandas DataFrame.

        wl.schemes()                       # every provider, in the order registered
        wl.schemes().loc["Stripe"]         # one provider's row
        wl.schemes()["timestamp window"]   # one question asked of every provider
    """
    import pandas as pd

    rows = {getattr(cls, "title", "") or name: describe(cls) for name, cls in list(PROVIDERS.items())}
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    table.index.name = "provider"
    return _table_class()(table)


def describe(cls: type[Provider]) -> dict[str, str]:
    """One provider's row: each column as text, "—" where the class does not say."""
    row = {column: _text(getattr(cls, attribute, None)) for column, attribute in COLUMNS.items() if attribute}
    row["timestamp window"] = _window(cls)
    row["retry policy"] = _retries(cls)
    return row


def _states(cls, attribute: str) -> bool:
    """Whether the provider itself says `attribute`: Provider's own value is a default for code, not a fact."""
    return any(attribute in vars(klass) for klass in cls.__mro__ if klass not in (Provider, object))


def _text(value) -> str:
    return value.strip() if isinstance(value, str) and value.strip() else MISSING


def _window(cls) -> str:
    if not _states(cls, "window"):
        return MISSING
    if cls.window is None:
        return "none: no timestamp is signed"
    try:
        span = duration(float(cls.window))
    except (TypeError, ValueError, OverflowError):
        return _text(str(cls.window))
    # Every scheme here refuses a timestamp that is too old; some refuse one too far in the future as well.
    return f"{span}, either way" if getattr(cls, "_rejects_future", False) else f"{span}, too old only"


def _retries(cls) -> str:
    """The retry policy in a phrase: how many retries over how long, and whether its intervals are assumed."""
    if not (_states(cls, "policy") or _states(cls, "policy_for")):
        return MISSING
    try:
        policy = cls().policy_for({"livemode": True})  # Stripe's depends on the event: live mode, as production
    except Exception:  # a provider that needs more to be made, or has a bug: the policy its class states, if any
        policy = cls.policy if _states(cls, "policy") else None
    try:
        if not policy.delays:
            return policy.note or "none"  # the note says what happens instead (GitHub: a person redelivers)
        text = f"{len(policy.delays)} retries over {duration(policy.offsets()[-1])}"
        qualifiers = [policy.name.partition("(")[2].rstrip(")")] if "(" in policy.name else []
        if policy.assumption:
            qualifiers.append("intervals partly our assumption")
        return text + (f" ({'; '.join(qualifiers)})" if qualifiers else "")
    except (AttributeError, TypeError, ValueError):
        return MISSING


def command(args, extra) -> int:
    """`webhooklab schemes`: the table, one block per provider, as a terminal is narrower than seven columns."""
    table = schemes()
    width = max(len(column) for column in table.columns)
    blocks = [
        "\n".join([str(provider), *(f"  {column:<{width}}  {value}" for column, value in row.items())])
        for provider, row in table.iterrows()
    ]
    print("\n\n".join(blocks))
    return 0


@cache
def _table_class():
    """A DataFrame that shows every phrase in full: the table is read, not scanned (made when pandas loads)."""
    import pandas as pd

    class SchemesTable(pd.DataFrame):
        @property
        def _constructor(self):
            return pd.DataFrame  # a selection or a copy is a plain DataFrame again

        def _repr_html_(self):
            with pd.option_context("display.max_colwidth", None):
                return super()._repr_html_()

        def __repr__(self) -> str:
            with pd.option_context("display.max_colwidth", None, "display.max_columns", None):
                return super().__repr__()

    SchemesTable.__qualname__ = "SchemesTable"
    return SchemesTable
