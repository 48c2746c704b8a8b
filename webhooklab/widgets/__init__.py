"""Widgets for the notebooks, built on the public API; each one works alone in a cell.

    wl.widgets.LiveTable(rx)                 # the events table, updating as requests arrive
    wl.widgets.SendPanel(rx)                 # pick a provider and event, tamper or not, send
    wl.widgets.SignatureExplainer(rx)        # why a captured event's signature does or doesn't verify
    wl.widgets.RetryTimeline(provider, event, to=rx.url("down"))   # a delivery's retries, animated
    wl.widgets.PushPollRace()                # push and a poller racing on the same events
    wl.widgets.Quiz()                        # a short quiz that ends in an automation blueprint

Each widget keeps its logic in plain methods (send(), explain(), run(), ...)
that tests and notebooks can call directly; a button only calls them.
Everything a request carried is shown escaped: it is data, never markup.
The quiz's blueprint (_blueprint.py) writes production code whose signature
checks (_production.py) use each provider's own SDK or the standard library.
"""

from .._exports import claim as _claim
from .._exports import course as _course

_course("ipywidgets", "the widgets")  # the `lab` extra: without it, a message that says how to install it
from ._blueprint import QUESTIONS, Blueprint, Quiz, blueprint
from ._capture import LiveTable, SendPanel, SignatureExplainer
from ._lessons import PushPollRace, RetryTimeline

__all__ = ["QUESTIONS", "Blueprint", "LiveTable", "PushPollRace", "Quiz", "RetryTimeline", "SendPanel",
           "SignatureExplainer", "blueprint"]  # fmt: skip

_claim(globals(), __name__)  # each name says where a learner finds it, not a private module
