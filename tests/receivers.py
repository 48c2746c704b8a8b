"""Receivers that several tests share, put back as new before each test (as pytest-httpserver's `clear()` does).

A shared receiver saves starting one per test, but only if no test can see what another left behind: its
events, the rules of respond(), handlers and their errors, listeners, the host names page_url() learnt,
its link. `reset()` restores all of them and then checks, through `state()`, that nothing else differs from
how the receiver started: a new kind of state that `reset()` does not know fails the next test loudly.
"""

import contextlib
import threading

import webhooklab as wl


def state(receiver: wl.Receiver) -> dict:
    """Everything a test can change on a running receiver, as values to compare."""
    return {
        "running": receiver.running,
        "events": receiver.store.count(),
        "rules": receiver.responses.rules(),
        "handlers": list(receiver.handlers._handlers),
        "handler errors": list(receiver.errors),
        "listeners": list(receiver._listeners),
        "host names": set(receiver.app.extensions["webhooklab.hosts"]),
        "link": receiver.link,
    }


class Shared:
    """A running receiver and how it was when it started."""

    def __init__(self, receiver: wl.Receiver):
        self.receiver = receiver.start() if not receiver.running else receiver
        self.started = state(self.receiver)

    def reset(self) -> wl.Receiver:
        """The receiver as it was when it started (its port aside, if a test stopped it), for the next test."""
        rx = self.receiver
        if not rx.running:
            rx.start()
        rx.clear()
        rx.responses.reset()
        with rx.handlers._lock:
            rx.handlers._handlers.clear()
            rx.handlers.errors.clear()
        rx._listeners.clear()
        hosts = rx.app.extensions["webhooklab.hosts"]
        hosts.clear()
        hosts.update(self.started["host names"])
        rx.link = self.started["link"]
        now = state(rx)
        changed = {key: (self.started[key], now[key]) for key in now if now[key] != self.started[key]}
        assert not changed, f"a test changed the shared receiver in a way reset() does not undo: {changed}"
        return rx

    def close(self) -> None:
        self.receiver.close()


@contextlib.contextmanager
def woken_only_by_notify(receiver: wl.Receiver):
    """While inside, wait_for() on `receiver` wakes only when notified, never at the end of a pause of its own.

    wait_for() also looks again every second, so a test that only waits for it to return would pass with its
    wake-ups deleted. Inside this block a missing wake-up leaves the waiter asleep. Yields an Event that is set
    once a waiter is asleep.
    """
    (condition,) = [value for value in vars(receiver).values() if isinstance(value, threading.Condition)]
    asleep = threading.Event()
    plain_wait = condition.wait

    def wait(timeout=None):
        asleep.set()
        return plain_wait()  # no timeout: only notify() ends it

    condition.wait = wait
    try:
        yield asleep
    finally:
        del condition.wait  # back to the class's method
        with condition:
            condition.notify_all()  # a waiter that was never woken is released, so the test can end
