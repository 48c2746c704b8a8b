"""`webhooklab lab`: copy the notebooks into a workshop folder and run JupyterLab on it, as a child process.

A child rather than os.execv: Windows has no exec that keeps the console, and one way
everywhere is one way to test. Ctrl-C still reaches JupyterLab, and its exit status is ours.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading

from .._errors import WebhooklabError
from .common import add_command


def add(commands) -> None:
    lab = add_command(
        commands, "lab", "open JupyterLab on your own copy of the guided notebooks",
        "Copy the notebooks into a workshop folder (your edits there are kept) and start JupyterLab on it. "
        "Options webhooklab does not know are passed on to JupyterLab.",
        ["webhooklab lab", "webhooklab lab --dir ~/webhooks --no-browser --port 8890",
         "webhooklab lab --copy-only       # on a JupyterHub, whose Jupyter server already runs"],
    )  # fmt: skip
    lab.add_argument("--dir", default="webhooklab-workshop", help="workshop folder (default: ./%(default)s)")
    lab.add_argument("--reset", action="store_true", help="overwrite your copies with fresh ones")
    lab.add_argument("--copy-only", action="store_true",
                     help="copy the notebooks and stop: where a Jupyter server already runs, as on a JupyterHub")
    lab.set_defaults(command="lab", run=lab_command)


def lab_command(args, extra) -> int:
    from .._workshop import prepare

    folder, copied, kept = prepare(args.dir, reset=args.reset)
    print(f"workshop folder: {folder} ({copied} file(s) copied, {kept} of yours kept)", flush=True)
    if args.copy_only:
        print(f"open {folder / '00.00-index.ipynb'} in JupyterLab to start")
        return 0
    if not _installed("jupyterlab"):
        raise WebhooklabError("webhooklab lab opens JupyterLab, which this install does not have: "
                              "pip install 'webhooklab[lab]' (the notebooks are copied already)")  # fmt: skip
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    first = min(folder.glob("*.ipynb"), default=None)
    if first is not None:
        command.append(f"--LabApp.default_url=/lab/tree/{first.name}")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        print("running as root (as in many containers): adding --allow-root, without which JupyterLab refuses to start",
              flush=True)  # fmt: skip
        command.append("--allow-root")
    return launch([*command, *extra])


def launch(command: list[str]) -> int:
    """Run `command` until it ends and return its exit status; Ctrl-C and SIGTERM here are passed on to it.

    A Ctrl-C typed in a terminal reaches the child by itself (it shares the console), so it is not sent
    twice; an interrupt or SIGTERM sent to this process alone is forwarded, and JupyterLab shuts down its
    own way. A child ended by a signal gives 128 + its number, as a shell reports it.
    """
    process = subprocess.Popen(command)
    forwarding = os.name == "posix" and threading.current_thread() is threading.main_thread()
    if forwarding:
        before = signal.signal(signal.SIGTERM, lambda number, frame: _forward(process, signal.SIGTERM))
    try:
        while True:
            try:
                status = process.wait()
                break
            except KeyboardInterrupt:
                if os.name == "posix" and not _terminal_reaches_child():
                    _forward(process, signal.SIGINT)
    finally:
        if forwarding:
            signal.signal(signal.SIGTERM, before)
    return 128 - status if status < 0 else status


def _forward(process: subprocess.Popen, number: int) -> None:
    if process.poll() is None:
        process.send_signal(number)


def _terminal_reaches_child() -> bool:
    """Whether a Ctrl-C comes from a terminal whose foreground group holds us and the child alike."""
    try:
        return os.isatty(0) and os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _installed(name: str) -> bool:
    """Whether `name` can be imported, without importing it (JupyterLab takes seconds to load)."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a module blocked in sys.modules, or a broken parent package
        return False
