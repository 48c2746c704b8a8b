"""The `webhooklab` command: serve a receiver, list what it captured, open the workshop."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading

from . import __version__
from .errors import WebhooklabError

DEFAULT_PORT = 8787  # fixed for the command line, so `serve` and `events` find each other
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "lab":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.run(args, extra)
    except WebhooklabError as error:
        print(f"webhooklab: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="webhooklab", description="Learn how webhooks work by running them.")
    parser.add_argument("--version", action="version", version=f"webhooklab {__version__}")
    parser.set_defaults(command=None)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser("serve", help="run a receiver in the foreground until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="0 picks a free port (default: %(default)s)")
    serve.add_argument("--db", help="keep events in this SQLite file (default: in memory)")
    serve.add_argument("--max-body", type=int, default=None, help="largest body accepted, in bytes (default: 25 MB)")
    serve.set_defaults(command="serve", run=_serve)

    events = commands.add_parser("events", help="print the events a receiver captured")
    source = events.add_mutually_exclusive_group()
    source.add_argument("--url", default=DEFAULT_URL, help="a running receiver (default: %(default)s)")
    source.add_argument("--db", help="read a SQLite file instead of asking a running receiver")
    events.add_argument("--endpoint", help="only this endpoint")
    events.add_argument("--json", action="store_true", help="print JSON instead of a table")
    events.set_defaults(command="events", run=_events)

    lab = commands.add_parser(
        "lab",
        help="open JupyterLab on your own copy of the guided notebooks",
        description="Copy the notebooks into a workshop folder (your edits there are kept) and start "
        "JupyterLab on it. Options webhooklab does not know are passed on to JupyterLab.",
    )
    lab.add_argument("--dir", default="webhooklab-workshop", help="workshop folder (default: ./%(default)s)")
    lab.add_argument("--reset", action="store_true", help="overwrite your copies with fresh ones")
    lab.set_defaults(command="lab", run=_lab)
    return parser


def _serve(args, extra) -> int:
    from .receiver import DEFAULT_MAX_BODY, Receiver

    rx = Receiver(args.db, host=args.host, port=args.port, max_body=args.max_body or DEFAULT_MAX_BODY)
    rx.start()
    print(f"webhooklab receiver listening on {rx.base_url}")
    print(f"  send webhooks to  {rx.url('<endpoint>')}   (any name)")
    print(f"  captured events   {rx.base_url}/api/events   or: webhooklab events --url {rx.base_url}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    count = rx.store.count()
    rx.close()
    print(f"\nstopped; {count} event(s) captured" + (f", kept in {args.db}" if args.db else ""))
    return 0


def _events(args, extra) -> int:
    if args.db:
        from .store import EventStore

        store = EventStore(args.db)
        rows = store.summaries(args.endpoint)
        store.close()
    else:
        rows = _fetch(f"{args.url.rstrip('/')}/api/events", args.endpoint)
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no events captured yet")
    else:
        from .store import to_frame

        print(to_frame(rows).fillna("").to_string())
    return 0


def _fetch(url: str, endpoint: str | None) -> list[dict]:
    import requests

    try:
        reply = requests.get(url, params={"endpoint": endpoint} if endpoint else None, timeout=10)
        reply.raise_for_status()
    except requests.RequestException as error:
        raise WebhooklabError(
            f"could not read events from {url}: {error.__class__.__name__}. Is `webhooklab serve` "
            "running there? Start it, or pass --url for another receiver or --db for a SQLite file"
        ) from None
    return reply.json()["events"]


def _lab(args, extra) -> int:
    from .workshop import prepare

    folder, copied, kept = prepare(args.dir, reset=args.reset)
    print(f"workshop folder: {folder} ({copied} file(s) copied, {kept} of yours kept)", flush=True)
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    first = min(folder.glob("*.ipynb"), default=None)
    if first is not None:
        command.append(f"--LabApp.default_url=/lab/tree/{first.name}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and classroom machines often run as root
    # Become JupyterLab, so Ctrl-C and signals reach it directly and it shuts down its own way.
    os.execv(sys.executable, [*command, *extra])
