"""What a long call shows while it runs: a bar in a notebook, one line on a terminal, nothing anywhere else.

A call that blocks for seconds with no sign of life looks hung. Progress counts down
the seconds a run is planned to take and says which part is running: in a Jupyter
kernel, a bar and a line of text updated in place (a display handle); on a terminal,
one line on stderr rewritten with a carriage return. Where no one is watching (a test,
a pipe, a log file: stderr is not a terminal and there is no kernel) it prints nothing.
"""

from __future__ import annotations

import html
import sys
import threading
import time

TICK = 0.5  # seconds between updates
WIDTH = 20  # characters of the terminal's bar


def in_kernel() -> bool:
    """Whether this code runs in a Jupyter kernel, where output goes to a notebook (IPython's terminal is not one)."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and getattr(shell, "kernel", None) is not None


class Progress:
    """A countdown for one long call, in stages: `with Progress("push vs poll", 14) as shown: shown.stage(...)`.

    `show=False` turns it off; `stream` is where a terminal's line goes (sys.stderr by default), and it is
    written to only when it is a terminal. In a kernel, with the default stream, a display handle is used.
    """

    def __init__(self, title: str, seconds: float, *, show: bool = True, stream=None, tick: float = TICK,
                 clock=time.monotonic):  # fmt: skip
        self.title, self.total, self.tick, self._clock = title, max(float(seconds), 1e-9), tick, clock
        self._stream = sys.stderr if stream is None else stream
        self.mode = None
        if show:
            self.mode = "notebook" if stream is None and in_kernel() else "terminal" if _tty(self._stream) else None
        self._what, self._planned, self._before, self._since = "starting", 0.0, 0.0, clock()
        self._stopped, self._lock, self._drawing = threading.Event(), threading.Lock(), threading.Lock()
        self._thread, self._handle, self._shown = None, None, ""

    def __enter__(self) -> Progress:
        if self.mode is not None:  # shown from the first stage on, or the first tick
            self._thread = threading.Thread(target=self._run, name="webhooklab-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join()
        if self.mode == "terminal":
            self._write("\r" + " " * len(self._shown) + "\r")  # the line is given back as it was
        elif self.mode == "notebook" and self._handle is not None:  # nothing was drawn: nothing to blank
            self._handle.update({"text/plain": ""}, raw=True)

    def stage(self, what: str, seconds: float) -> None:
        """Say that `what` runs now, planned to take `seconds`; what ran before counts as done."""
        with self._lock:
            self._before = min(self.total, self._before + self._planned)
            self._what, self._planned, self._since = what, max(float(seconds), 0.0), self._clock()
        self._show()

    def line(self) -> str:
        """The text shown now: the title, what runs, and the seconds left."""
        done = self.done()
        left = max(0.0, self.total - done)
        return f"{self.title}: {self._what}, {left:.0f} s of {self.total:.0f} s left"

    def done(self) -> float:
        """Seconds of the plan behind us: the stages that ended, and this one's time so far (never past its plan)."""
        with self._lock:
            return min(self.total, self._before + min(self._planned, self._clock() - self._since))

    def _run(self) -> None:
        while not self._stopped.wait(self.tick):
            self._show()

    def _show(self) -> None:
        with self._drawing:  # the ticking thread and stage() draw in turn
            self._draw()

    def _draw(self) -> None:
        if self.mode is None:
            return
        text, fraction = self.line(), self.done() / self.total
        if self.mode == "terminal":
            filled = round(fraction * WIDTH)
            shown = f"[{'#' * filled}{'.' * (WIDTH - filled)}] {text}"
            if shown != self._shown:
                self._write("\r" + shown.ljust(len(self._shown)))
                self._shown = shown
            return
        shown = {"text/plain": text, "text/html": f'<progress value="{fraction:.3f}" max="1" style="width: 12em" '
                 f'aria-label="{html.escape(self.title)}"></progress> {html.escape(text)}'}  # fmt: skip
        if self._handle is None:
            from IPython.display import display

            self._handle = display(shown, raw=True, display_id=True)
        else:
            self._handle.update(shown, raw=True)

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: progress is never worth an error
            self.mode = None


def _tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, OSError, ValueError):
        return False
