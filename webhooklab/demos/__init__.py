"""The glossary demos: one idea about webhooks per screen, operated with buttons and sliders only.

    import webhooklab.demos
    webhooklab.demos.show("signature")      # in a notebook cell, or as an app: webhooklab demo signature

Each demo runs real parts (a receiver, simulated senders, a relay) in the kernel and shows real requests
arriving. `webhooklab demo` serves them with Voilà, a page each with no code on it; the notebooks it
serves are in the notebooks' demos/ folder, one cell each.

Modules: _frame.py (what every demo shares: heading, controls, main button, reset, stage), _webhook.py,
_race.py (push or poll), _signature.py, _retries.py, _duplicates.py, _replay.py (with _wire.py, a wiretap
and the HTTPS it cannot read), _relay.py (reaching a laptop), one demo each; voila/ holds the page
template, which keeps the page offline and accessible.
"""

from __future__ import annotations

from .._checks import got
from .._errors import UsageError, UsageTypeError
from .._exports import claim as _claim
from .._exports import course as _course

_course("ipywidgets", "the demos")
from ._duplicates import DuplicatesDemo
from ._race import RaceDemo
from ._relay import RelayDemo
from ._replay import ReplayDemo
from ._retries import RetriesDemo
from ._signature import SignatureDemo
from ._webhook import WebhookDemo

#: Each demo's name, as ``webhooklab demo NAME`` and ``show(NAME)`` take it, to its class, in the order the
#: glossary page raises the ideas.
DEMOS = {demo.name: demo for demo in (WebhookDemo, RaceDemo, SignatureDemo, RetriesDemo, DuplicatesDemo,
                                      ReplayDemo, RelayDemo)}  # fmt: skip


def show(name: str):
    """The demo called `name` (one of DEMOS), ready to display: the last line of a cell shows it."""
    if not isinstance(name, str):
        raise UsageTypeError(f"name must be the name of a demo, one of {', '.join(DEMOS)}, got {got(name)}")
    if name not in DEMOS:
        raise UsageError(f"there is no demo called {name!r}: the demos are {', '.join(DEMOS)}")
    return DEMOS[name]()


__all__ = ["DEMOS", "show"]

_claim(globals(), __name__)
