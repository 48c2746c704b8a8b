"""wl.schemes(): every registered signature scheme side by side, read live from the registry.

Each row comes from what the provider class states, so the table is checked
against the classes (whatever providers are registered) and against the
facts of the built-in ones; a provider added later gets its row, and one that
states nothing gets "—" rather than a guess or an error.
"""

import pandas as pd
import pytest

import webhooklab as wl
from webhooklab import _cli as cli
from webhooklab._providers import PROVIDERS, Header, Provider, register, unregister

COLUMNS = ["signs", "algorithm", "encoding", "signature header", "timestamp window", "replay defence", "retry policy"]


def test_one_row_per_registered_provider_in_the_registrys_order():
    table = wl.schemes()
    assert isinstance(table, pd.DataFrame)
    assert list(table.columns) == COLUMNS and table.index.name == "provider"
    assert list(table.index) == [cls.title for cls in PROVIDERS.values()]


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_each_row_says_what_its_class_states(name):
    cls = PROVIDERS[name]
    row = wl.schemes().loc[cls.title]
    assert row["signs"] == cls.signs and row["algorithm"] == cls.algorithm
    assert row["encoding"] == cls.digest_encoding and row["signature header"] == cls.signature_header
    assert row["replay defence"] == (cls.replay_defence or "—")
    assert (row["timestamp window"] == "none: no timestamp is signed") is (cls.window is None)
    assert all(isinstance(value, str) and value for value in row)


def test_the_built_in_schemes_facts():
    table = wl.schemes()
    assert table.loc["Stripe", "timestamp window"] == "5 min, too old only"  # Stripe's libraries: old ones only
    assert table.loc["Standard Webhooks", "timestamp window"] == "5 min, either way"
    for unsigned in ("GitHub", "Shopify"):
        assert table.loc[unsigned, "timestamp window"] == "none: no timestamp is signed"
    assert table.loc["GitHub", "encoding"] == "hex" and table.loc["Shopify", "encoding"] == "base64"
    assert "Ed25519 (v1a" in table.loc["Standard Webhooks", "algorithm"]
    assert "webhook-id" in table.loc["Standard Webhooks", "replay defence"]
    for unsigned in ("X-GitHub-Delivery", "X-Shopify-Webhook-Id"):  # not signed: named as not a defence
        (row,) = [text for text in table["replay defence"] if unsigned in text]
        assert row.startswith("none signed") and "not covered" in row


def test_the_retry_column_comes_from_each_providers_policy():
    table = wl.schemes()
    assert table.loc["GitHub", "retry policy"].startswith("no automatic retry")
    assert table.loc["Shopify", "retry policy"].startswith("8 retries over 4 h")
    live = wl.RetryPolicy.stripe(live=True)
    assert table.loc["Stripe", "retry policy"].startswith(f"{len(live.delays)} retries")
    assert "live mode" in table.loc["Stripe", "retry policy"]
    assert "our assumption" in table.loc["Stripe", "retry policy"]  # Stripe does not publish its intervals
    assert table.loc["Standard Webhooks", "retry policy"].startswith("7 retries over 1 d 3 h (Svix")


class Acme(Provider):
    """States nothing of its scheme beyond a name and a header: the table must not invent the rest."""

    name = "acme-schemes"
    title = "Acme"
    signature_header = "X-Acme-Signature"

    @classmethod
    def new_secret(cls) -> str:
        return "acme_secret"

    def _read_header(self, headers):
        return Header([headers.get("x-acme-signature", "")])

    def _headers(self, payload, body, signatures, timestamp, delivery_id):
        return {"X-Acme-Signature": signatures[0]}


class Broken(Acme):
    """Says odd things, and cannot even be made: still a row, with "—" where nothing sensible is said."""

    name = "broken-schemes"
    title = "Broken"
    signature_header = ""
    algorithm = None
    window = "soon"
    replay_defence = "   "

    def __init__(self, secret=None):
        raise RuntimeError("cannot be made without a connection")

    def policy_for(self, event):
        raise AssertionError("never reached")


@pytest.fixture
def added():
    register(Acme)
    register(Broken)
    yield
    unregister(Acme.name)
    unregister(Broken.name)


def test_a_provider_registered_later_has_its_row_at_once_and_loses_it_when_removed(added):
    table = wl.schemes()
    assert list(table.index[-2:]) == ["Acme", "Broken"]
    acme = table.loc["Acme"]
    assert acme["signature header"] == "X-Acme-Signature"
    assert acme["signs"] == "the body" and acme["algorithm"] == "HMAC-SHA256"  # what Provider's own code does
    assert (acme["timestamp window"], acme["replay defence"], acme["retry policy"]) == ("—", "—", "—")
    unregister(Acme.name)
    assert "Acme" not in wl.schemes().index


def test_odd_or_missing_attributes_fall_back_to_a_dash(added):
    broken = wl.schemes().loc["Broken"]
    assert broken["signature header"] == broken["algorithm"] == broken["replay defence"] == "—"
    assert broken["timestamp window"] == "soon"  # stated, though not a number: shown as stated
    assert broken["retry policy"] == "—"


def test_every_phrase_is_shown_in_full():
    table = wl.schemes()
    longest = max((value for row in table.itertuples(index=False) for value in row), key=len)
    assert len(longest) > 50  # longer than pandas' default cut
    assert longest in table._repr_html_().replace("&amp;", "&") and longest in repr(table)
    assert "..." not in table._repr_html_()
    plain = table[["signs"]]
    assert type(plain) is pd.DataFrame  # a selection is an ordinary DataFrame


def test_the_command_line_prints_every_row(capsys):
    assert cli.main(["schemes"]) == 0
    printed = capsys.readouterr().out
    table = wl.schemes()
    for provider, row in table.iterrows():
        assert f"\n{provider}\n" in f"\n{printed}"
        for column, value in row.items():
            assert f"  {column:<16}  {value}\n" in printed + "\n"
