"""Checks for the notebooks' exercises: each prints ✓ with what went right, or ✗ with a specific hint.

A check never raises, so "Run All" goes on past an unfinished exercise; it
returns True or False, so tests can grade the solutions.

    from webhooklab.exercises import ch01
    ch01.check_order_sent(rx)
"""

from __future__ import annotations


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
