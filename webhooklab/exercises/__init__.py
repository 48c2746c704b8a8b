"""Checks for the notebooks' exercises: each prints ✓ with what went right, or ✗ with a specific hint.

A check never raises, so "Run All" goes on past an unfinished exercise; it
returns True or False, so tests can grade the solutions. Each check_* is
decorated with @guarded, which keeps that promise whatever the kernel holds
(a stopped receiver, None, a wrong type, a learner function that raises).

A check that takes the learner's receiver uses only the receiver contract
(webhooklab._receiving.contract.AnyReceiver), so a receiver on this machine and a
bin on a class server both work; one that needs the learner's handler (rx.on) says,
as a ✗, that handlers run only in a receiver in the kernel, and how to start one.

    from webhooklab.exercises import ch01
    ch01.check_order_sent(rx)

Each chapter's module names its notebook (NOTEBOOK). In a folder joined to a class
(wl.join_class), every check's verdict goes to the learner's bin for the instructor's
dashboard: _verdicts.py sends the check's name, notebook and pass or not, in the background.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

from .._receiving.contract import AnyReceiver
from ._verdicts import report


def passed(message: str) -> bool:
    print(f"✓ {message}")
    return True


def failed(message: str) -> bool:
    print(f"✗ Not yet: {message}")
    return False


def check(condition: bool, success: str, hint: str) -> bool:
    """✓ `success` when `condition` holds, otherwise ✗ `hint`."""
    return passed(success) if condition else failed(hint)


def attempt(function, *args, **kwargs):
    """Call the learner's function; (result, None) or (None, a one-line description of what it raised)."""
    try:
        return function(*args, **kwargs), None
    except Exception as error:  # a learner's bug is feedback, not a crash of the check
        return None, f"{type(error).__name__}: {error}"


def unanswered(answers, name: str, keys, *, maps: str, entry: str = "answer", keep: str) -> str | None:
    """Why the exercise's dict of answers cannot be graded (not a dict, or keys gone), or None when it can.

    `maps` says what the dict is from and to; `keep` what the learner should not rename or delete.
    """
    if not isinstance(answers, dict):
        return f"{name} should be a dict from {maps}, but it is a {type(answers).__name__}."
    missing = [key for key in keys if key not in answers]
    if not missing:
        return None
    more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
    return f"{name} has no {entry} for {missing[0]!r}{more}. Keep the {keep} exactly as given."


def guarded(*, receiver: str | None = None, sends: bool = False, handlers: bool = False):
    """Make a check keep its promise: whatever it is given, it prints ✓ or ✗ and returns True or False, never raises.

    `receiver` names the check's parameter that holds the learner's receiver: it is checked before the check
    runs (None, something else, or, when the check `sends` to it, stopped; when it needs the learner's
    `handlers`, one that runs none, a bin on a class server), so the hint says what to do instead of showing
    a traceback. Anything else the check raises, on an argument it did not expect or on a kernel whose state
    changed, is printed as a ✗ with the error and a way back.
    """

    def decorate(check):
        signature = inspect.signature(check)
        call = f"{check.__name__}({', '.join(signature.parameters)})"

        @functools.wraps(check)
        def run(*args, **kwargs):
            verdict = judge(*args, **kwargs)
            report(check, verdict)  # to the class's bin, in the background, if this folder joined one
            return verdict

        def judge(*args, **kwargs) -> bool:
            try:
                arguments = signature.bind(*args, **kwargs).arguments
            except TypeError as error:
                return failed(f"this check is {call}, but it was called with other arguments ({error}). "
                              "Run the cell as the notebook wrote it.")  # fmt: skip
            if receiver is not None:
                problem = receiver_problem(arguments.get(receiver), receiver, running=sends, handlers=handlers)
                if problem:
                    return failed(problem)
            result, error = attempt(check, *args, **kwargs)
            if error is None:
                stopped = receiver is not None and not arguments[receiver].running
                if result is not True and stopped:
                    print(f"  (`{receiver}` is stopped too: run {receiver}.start() before sending anything to it.)")
                return result is True
            if error.startswith("ReceiverError") and receiver is not None:
                return failed(f"the receiver `{receiver}` stopped while the check ran ({error}). "
                              f"Run {receiver}.start() and this cell again.")  # fmt: skip
            return failed(f"the check could not run with what it was given: {error}. Run the cells above this one "
                          "again (from the top if unsure), then this cell.")  # fmt: skip

        return run

    return decorate


def receiver_problem(rx, name: str = "rx", *, running: bool = True, handlers: bool = False) -> str | None:
    """What keeps `rx` from being used by a check, or None.

    None or not a receiver; stopped, when the check is `running` something to it; a receiver that runs
    no handlers (a bin on a class server), when the check needs the learner's `handlers`.
    """
    if rx is None:
        return (f"`{name}` is None, not a receiver: run the notebook's first cells ({name} = wl.Receiver().start()), "
                "then this cell.")  # fmt: skip
    if not isinstance(rx, AnyReceiver):
        return (f"`{name}` should be the notebook's receiver, but it is a {type(rx).__name__}. Run the notebook's "
                f"first cells ({name} = wl.Receiver().start()), then this cell.")  # fmt: skip
    if running and not rx.running:
        return (f"the check could not deliver to the receiver `{name}`: it is stopped. "
                f"Run {name}.start() and this cell again.")  # fmt: skip
    if handlers and not rx.runs_handlers:
        return (f"this check sends an event to `{name}` and looks at what your handler did with it, but `{name}` is "
                "your bin on the class server, and handlers (@rx.on) run only in a receiver in your own kernel: the "
                "class server runs no code from your notebook. For this exercise start one on your machine, "
                f"{name} = wl.Receiver().start(), run the cell that registers your handler again, "
                "then this cell.")  # fmt: skip
    return None


@functools.cache
def catalogue() -> tuple[tuple[str, str], ...]:
    """Every check of the course, in its order: (its name, as ch03.check_verify_github, and its notebook)."""
    found = []
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("ch")):
        chapter = importlib.import_module(f"{__name__}.{module}")
        for name, value in vars(chapter).items():
            if name.startswith("check_") and callable(value) and getattr(value, "__module__", "") == chapter.__name__:
                found.append((f"{module}.{name}", chapter.NOTEBOOK))
    return tuple(found)
