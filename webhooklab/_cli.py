"""The `webhooklab` command: serve a receiver, list what it captured, open the workshop, run a class."""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading

from ._checks import key_value, overrides
from ._errors import WebhooklabError
from ._providers import PROVIDERS
from ._version import __version__

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
    serve.add_argument("--secret", action="append", default=[], metavar="ENDPOINT=SECRET",
                       help="verify signatures on ENDPOINT with SECRET (repeatable)")  # fmt: skip
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="also answer the inspector and API when reached by this host name, "
                       "such as a tunnel's (repeatable; IP addresses and localhost always are)")  # fmt: skip
    serve.add_argument("--link", metavar="TEMPLATE",
                       help="where a browser finds the page, e.g. '{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/' "
                       "(default: $WEBHOOKLAB_LINK, a JupyterHub's proxy, or the receiver's own address)")  # fmt: skip
    serve.add_argument("--frame-ancestor", action="append", default=[], metavar="ORIGIN",
                       help="also let pages of this origin embed the inspector (repeatable)")
    serve.add_argument("--share-page", action="store_true",
                       help="let other machines read the inspector and the API, never change anything "
                       "(with --host 0.0.0.0; webhooks are open to every machine either way)")  # fmt: skip
    serve.set_defaults(command="serve", run=_serve)

    send = commands.add_parser("send", help="send a signed, realistic webhook, like `stripe trigger`")
    send.add_argument("provider", nargs="?", choices=sorted(PROVIDERS), help="who sends it")
    send.add_argument("event_type", nargs="?", help="for example payment_intent.succeeded (see --list)")
    send.add_argument("--list", action="store_true", help="list every provider's event types")
    send.add_argument("--to", help=f"where to POST (default: {DEFAULT_URL}/hooks/<provider>)")
    send.add_argument("--secret", help="signing secret (default: a new random one, printed masked)")
    send.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help="override a field, e.g. amount=5000 (VALUE is read as JSON when it parses)")  # fmt: skip
    send.add_argument("--show", action="store_true", help="print the headers and body that go on the wire")
    send.add_argument("--retry", action="store_true", help="retry on the provider's schedule until delivered")
    send.add_argument("--virtual-time", action="store_true", help="with --retry: jump over the waits")
    send.set_defaults(command="send", run=_send)

    schedule = commands.add_parser("schedule", help="print a provider's retry schedule")
    schedule.add_argument("provider", choices=sorted(PROVIDERS))
    schedule.add_argument("--test-mode", action="store_true", help="Stripe's test-mode schedule")
    schedule.set_defaults(command="schedule", run=_schedule)

    from ._providers.schemes import command as _schemes

    schemes = commands.add_parser("schemes", help="compare every provider's signature scheme side by side")
    schemes.set_defaults(command="schemes", run=_schemes)

    verify = commands.add_parser("verify", help="check a captured event's signature and explain each step")
    verify.add_argument("provider", choices=sorted(PROVIDERS), help="whose scheme to check with")
    verify.add_argument("--secret", required=True, action="append", help="signing secret (repeat to rotate)")
    what = verify.add_mutually_exclusive_group(required=True)
    what.add_argument("--id", type=int, help="an event id at the receiver given by --url")
    what.add_argument("--file", help="a body file; or an event exported from /api/events/<id> as JSON")
    verify.add_argument("--url", default=DEFAULT_URL, help="the receiver holding --id (default: %(default)s)")
    verify.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="with a body --file")
    verify.add_argument("--tolerance", type=float, help="seconds a timestamp may be old (default: the provider's "
                        "window: 300 for Stripe, Slack and Standard Webhooks)")  # fmt: skip
    verify.set_defaults(command="verify", run=_verify)

    events = commands.add_parser("events", help="print the events a receiver captured")
    source = events.add_mutually_exclusive_group()
    source.add_argument("--url", default=DEFAULT_URL, help="a running receiver (default: %(default)s)")
    source.add_argument("--db", help="read a SQLite file instead of asking a running receiver")
    events.add_argument("--endpoint", help="only this endpoint")
    events.add_argument("--json", action="store_true", help="print JSON instead of a table")
    events.add_argument("--limit", type=int, default=100, help="how many of the newest to show, 1 to 1000 "
                        "(default: %(default)s)")  # fmt: skip
    events.set_defaults(command="events", run=_events)

    lab = commands.add_parser(
        "lab",
        help="open JupyterLab on your own copy of the guided notebooks",
        description="Copy the notebooks into a workshop folder (your edits there are kept) and start "
        "JupyterLab on it. Options webhooklab does not know are passed on to JupyterLab.",
    )
    lab.add_argument("--dir", default="webhooklab-workshop", help="workshop folder (default: ./%(default)s)")
    lab.add_argument("--reset", action="store_true", help="overwrite your copies with fresh ones")
    lab.add_argument("--copy-only", action="store_true",
                     help="copy the notebooks and stop: where a Jupyter server already runs, as on a JupyterHub")
    lab.set_defaults(command="lab", run=_lab)

    relay = commands.add_parser(
        "relay", help="forward every request that reaches your class bin to a program on this machine",
        description="Like stripe listen --forward-to: this machine opens the connection (no inbound port needed), "
        "each request that reaches the bin is sent to the local URL exactly as it arrived, and the local answer "
        "goes back to the sender. Stop with Ctrl-C.")  # fmt: skip
    relay.add_argument("bin_url", metavar="BIN_URL", help="your bin's URL, from the handout")
    relay.add_argument("--forward-to", action="append", required=True, metavar="[ENDPOINT=|type:PATTERN=]URL",
                       help="where requests go: a URL for all of them, ENDPOINT=URL for one endpoint of the bin, "
                       "type:payment_intent.*=URL for event types (repeatable; the first that matches wins)")  # fmt: skip
    relay.set_defaults(command="relay", run=_relay)

    classroom = commands.add_parser(
        "classroom",
        help="run a class server: a private bin per learner, a dashboard, a handout",
        description="Serve one bin per learner and your dashboard from this machine. Tokens and signing "
        "secrets are made here and kept in files of --dir (0600), never taken from the command line; "
        "starting again with the same --dir keeps everything.",
    )
    who = classroom.add_mutually_exclusive_group()
    who.add_argument("--students", type=int, metavar="N", help="N learners, named learner-01, learner-02, ...")
    who.add_argument("--roster", metavar="FILE", help="a text file with one learner's name a line")
    classroom.add_argument("--host", default="0.0.0.0", help="address to listen on (default: %(default)s, every network)")
    classroom.add_argument("--port", type=int, default=8000, help="0 picks a free port (default: %(default)s)")
    classroom.add_argument("--dir", default="webhooklab-class", help="the class folder (default: ./%(default)s)")
    classroom.add_argument("--quota-mb", type=int, default=100, metavar="MB",
                           help="bodies each bin may keep, in MB (default: %(default)s)")  # fmt: skip
    classroom.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                           help="also answer when learners reach this machine by NAME, e.g. teacher.local (repeatable)")
    classroom.set_defaults(command="classroom", run=_classroom)
    during = classroom.add_subparsers(title="while the class runs", metavar="ACTION")
    broadcast = during.add_parser(
        "send", help="be the provider: deliver one event to every learner's bin, with its retries",
        description="Deliver one event from a provider to every learner's bin of the running class (or one "
        "learner's), each signed with that learner's own secret and retried on the provider's schedule, "
        "replayed in seconds. Prints each learner's outcome as it ends; your dashboard shows every attempt.",
    )  # fmt: skip
    broadcast.add_argument("provider", choices=sorted(PROVIDERS), help="who sends it")
    broadcast.add_argument("event_type", help="for example payment_intent.succeeded (`webhooklab send --list`)")
    broadcast.add_argument("--dir", default="webhooklab-class", help="the running class's folder (default: ./%(default)s)")
    broadcast.add_argument("--endpoint", help="the endpoint of each bin it goes to (default: shop)")
    broadcast.add_argument("--learner", metavar="NAME", help="only this learner's bin (default: everyone's)")
    broadcast.add_argument("--replay", type=float, metavar="SECONDS",
                           help="how long the whole retry schedule takes, replayed (default: 10)")  # fmt: skip
    broadcast.set_defaults(command="classroom send", run=_classroom_send)
    return parser


def _relay(args, extra) -> int:
    from ._receiving.relay import run

    return run(args.bin_url, args.forward_to)


def _classroom(args, extra) -> int:
    from ._classroom import run

    return run(args)


def _classroom_send(args, extra) -> int:
    from ._classroom.broadcast_cli import run

    return run(args)


def _serve(args, extra) -> int:
    from ._receiving.receiver import DEFAULT_MAX_BODY, Receiver

    secrets = dict(key_value(item, "ENDPOINT=SECRET") for item in args.secret)
    rx = Receiver(args.db, host=args.host, port=args.port, max_body=args.max_body or DEFAULT_MAX_BODY, secrets=secrets,
                  allowed_hosts=args.allow_host, link=args.link, frame_ancestors=args.frame_ancestor,
                  share_page=args.share_page)  # fmt: skip
    rx.start()
    try:  # a Ctrl-C from the moment it listens stops it cleanly, and says what it kept
        print(f"webhooklab receiver listening on {rx.base_url}")
        print(f"  send webhooks to  {rx.url('<endpoint>')}   (any name)")
        page = rx.page_url()
        print(f"  inspector         {page}   (a live page of every request"
              + (", through the Jupyter server's proxy)" if not page.startswith(rx.base_url) else ")"))
        print(f"  captured events   {rx.base_url}/api/events   or: webhooklab events --url {rx.base_url}")
        print("Press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    count = rx.store.count()
    rx.close()
    print(f"\nstopped; {count} event(s) captured" + (f", kept in {args.db}" if args.db else ""))
    return 0


def _send(args, extra) -> int:
    if args.list:
        for name, provider in PROVIDERS.items():
            print(f"{name}: {', '.join(provider.event_types())}")
        return 0
    if not (args.provider and args.event_type):
        raise WebhooklabError("say who sends what, e.g. `webhooklab send stripe payment_intent.succeeded` (--list shows all)")
    try:
        provider = PROVIDERS[args.provider](args.secret)  # a secret this scheme cannot use is a ValueError
        event = provider.event(args.event_type, **overrides(args.set))
    except (TypeError, ValueError) as error:
        raise WebhooklabError(str(error)) from None
    if not args.secret:
        print(f"signing with a new random secret {provider!r}; pass --secret to choose it")
    to = args.to or f"{DEFAULT_URL}/hooks/{args.provider}"
    provider = provider.at(to)  # a scheme that signs the URL (Twilio's) signs this one
    if args.show:
        body, headers = provider.sign(event)
        print("\n".join(f"{name}: {value}" for name, value in headers.items()) + "\n")
        print(body.decode("utf-8"))
    if args.retry:
        from ._sending.clock import RealClock, VirtualClock

        print(provider.policy_for(event))
        delivery = provider.deliver(event, to, clock=VirtualClock() if args.virtual_time else RealClock(),
                                    on_attempt=_print_attempt)  # fmt: skip
        print(f"{delivery.status} after {len(delivery.log)} attempt(s)")
        return 0 if delivery.status == "delivered" else 1
    attempt = provider.send(event, to=to)
    print(f"POST {attempt.url} -> {attempt.status or attempt.error} in {attempt.elapsed * 1000:.1f} ms")
    if attempt.response_body:
        print(attempt.response_body.decode("utf-8", "replace"))
    return 0 if attempt.ok else 1


def _print_attempt(delivery, row: dict) -> None:
    from ._sending.timeline import duration

    print(f"attempt {row['attempt']} at +{duration(row['offset'])}: {row['outcome']}", flush=True)


def _schedule(args, extra) -> int:
    provider = PROVIDERS[args.provider]()
    policy = provider.policy_for({"livemode": not args.test_mode})
    print(policy)
    print(policy.schedule().drop(columns="seconds").to_string())
    return 0


def _verify(args, extra) -> int:
    import base64

    if args.id is not None:
        record = _get(f"{args.url.rstrip('/')}/api/events/{args.id}")
        body, headers = base64.b64decode(record["body_base64"]), record["headers"]
    else:
        try:
            with open(args.file, "rb") as file:
                body = file.read()
        except OSError as error:
            raise WebhooklabError(f"cannot read --file {args.file}: {error.strerror or error}") from None
        headers = [key_value(item, "'NAME: VALUE'", ":") for item in args.header]
        record = _exported(body)
        if record:
            body, headers = base64.b64decode(record["body_base64"]), record["headers"]
    try:
        provider = PROVIDERS[args.provider](args.secret)
    except ValueError as error:
        raise WebhooklabError(str(error)) from None
    if args.id is not None:  # a scheme that signs the URL (Twilio's) is handed the one the event arrived at
        query = record.get("query") or ""
        provider = provider.at(f"{args.url.rstrip('/')}{record['path']}" + (f"?{query}" if query else ""))
    window = {} if args.tolerance is None else {"tolerance": args.tolerance}  # the provider's own window by default
    explanation = provider.explain(body, headers, **window)
    print(explanation)
    return 0 if explanation.ok else 1


def _exported(data: bytes) -> dict | None:
    """An event exported from /api/events/<id>, or None when the file is a plain body."""
    try:
        record = json.loads(data)
    except ValueError:
        return None
    return record if isinstance(record, dict) and {"body_base64", "headers"} <= record.keys() else None


def _events(args, extra) -> int:
    """The newest events, oldest first: one page of the receiver's API, or of a database file."""
    if not 1 <= args.limit <= 1000:
        raise WebhooklabError(f"--limit is how many of the newest events to show, 1 to 1000, got {args.limit}")
    if args.db:
        from ._receiving.store import EventStore

        store = EventStore(args.db)
        rows, total, _ = store.page(args.endpoint, limit=args.limit, newest=True)
        store.close()
    else:
        params = {"newest": "1", "limit": args.limit, **({"endpoint": args.endpoint} if args.endpoint else {})}
        page = _get(f"{args.url.rstrip('/')}/api/events", params)
        rows, total = page["events"], page["total"]
    rows.reverse()  # oldest first, as the table reads
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no events captured yet")
    else:
        from ._receiving.store import to_frame

        print(to_frame(rows).to_string(na_rep=""))
    if total > len(rows):
        print(f"the newest {len(rows)} of {total} events; --limit shows up to 1000, and the page or "
              "/api/export.csv has them all", file=sys.stderr)  # fmt: skip
    return 0


def _get(url: str, params: dict | None = None) -> dict:
    import requests

    try:
        reply = requests.get(url, params=params, timeout=10)
    except requests.RequestException as error:
        raise WebhooklabError(
            f"could not reach {url}: {error.__class__.__name__}. Is `webhooklab serve` running there? "
            "Start it, or pass --url for another receiver (or --db / --file to read a file)"
        ) from None
    try:
        answer = reply.json()
    except ValueError:
        answer = None
    if reply.status_code != 200:
        said = answer.get("error") if isinstance(answer, dict) else None
        raise WebhooklabError(f"{url} answered {reply.status_code}: {said or ' '.join(reply.text.split())[:200]}")
    if not isinstance(answer, dict):
        raise WebhooklabError(f"{url} answered, but not with a webhooklab receiver's JSON: is --url a receiver "
                              "started by `webhooklab serve`?")  # fmt: skip
    return answer


def _lab(args, extra) -> int:
    from ._workshop import prepare

    folder, copied, kept = prepare(args.dir, reset=args.reset)
    print(f"workshop folder: {folder} ({copied} file(s) copied, {kept} of yours kept)", flush=True)
    if args.copy_only:
        print(f"open {folder / '00.00-index.ipynb'} in JupyterLab to start")
        return 0
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}"]
    first = min(folder.glob("*.ipynb"), default=None)
    if first is not None:
        command.append(f"--LabApp.default_url=/lab/tree/{first.name}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and classroom machines often run as root
    if os.name == "posix" and hasattr(os, "execv"):
        # Become JupyterLab, so Ctrl-C and signals reach it directly and it shuts down its own way.
        os.execv(sys.executable, [*command, *extra])
    # Windows has no exec that keeps the console: run JupyterLab as a child, which the console's Ctrl-C reaches
    # too (it asks whether to shut down, its own way), and wait for it.
    import subprocess

    process = subprocess.Popen([*command, *extra])
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue
