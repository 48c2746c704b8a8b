"""`webhooklab serve`, `events` and `import`: run a receiver, read what it captured, load a capture from a file."""

from __future__ import annotations

import json
import sys
import threading

from .._checks import key_value
from .._errors import WebhooklabError
from .common import DEFAULT_PORT, DEFAULT_URL, ArgumentError, add_command, get_json, reading_arguments


def add(commands) -> None:
    serve = add_command(
        commands, "serve", "run a receiver in the foreground until Ctrl-C",
        "Run a receiver: every request to /hooks/<endpoint> is captured (any endpoint name), shown live on the "
        "inspector page and kept until it stops (in memory, or in --db). Stop it with Ctrl-C.",
        ["webhooklab serve", "webhooklab serve --db events.db --secret shop=whsec_demo",
         "webhooklab serve --port 0            # any free port"],
    )  # fmt: skip
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
    serve.set_defaults(command="serve", run=serve_command)

    events = add_command(
        commands, "events", "print the events a receiver captured",
        "Print the newest events a running receiver captured (oldest first), or those kept in a SQLite file.",
        ["webhooklab events", "webhooklab events --endpoint shop --json", "webhooklab events --db events.db"],
    )  # fmt: skip
    source = events.add_mutually_exclusive_group()
    source.add_argument("--url", default=DEFAULT_URL, help="a running receiver (default: %(default)s)")
    source.add_argument("--db", help="read a SQLite file instead of asking a running receiver")
    events.add_argument("--endpoint", help="only this endpoint")
    events.add_argument("--json", action="store_true", help="print JSON instead of a table")
    events.add_argument("--limit", type=int, default=100, help="how many of the newest to show, 1 to 1000 "
                        "(default: %(default)s)")  # fmt: skip
    events.set_defaults(command="events", run=events_command)

    imported = add_command(
        commands, "import", "load events from an export file (HAR, JSON Lines or JSON) into a SQLite file",
        "Read a capture exported from a receiver (/api/export.har, .jsonl or .json), or a HAR file saved by a "
        "browser's network panel, into a SQLite file that `webhooklab serve --db` and `events --db` read.",
        ["webhooklab import capture.har", "webhooklab import export.jsonl --db class.db && webhooklab events --db class.db"],
    )  # fmt: skip
    imported.add_argument("file", metavar="FILE", help="the export file to read")
    imported.add_argument("--db", default="events.db", help="the SQLite file to add them to (default: %(default)s)")
    imported.set_defaults(command="import", run=import_command)


def serve_command(args, extra) -> int:
    from .._receiving.receiver import DEFAULT_MAX_BODY, Receiver

    with reading_arguments():
        secrets = dict(key_value(item, "--secret ENDPOINT=SECRET, such as shop=whsec_demo") for item in args.secret)
        rx = Receiver(args.db, host=args.host, port=args.port, max_body=args.max_body or DEFAULT_MAX_BODY,
                      secrets=secrets, allowed_hosts=args.allow_host, link=args.link,
                      frame_ancestors=args.frame_ancestor, share_page=args.share_page)  # fmt: skip
    rx.start()
    try:  # a Ctrl-C from the moment it listens stops it cleanly, and says what it kept
        print(f"webhooklab receiver listening on {rx.base_url}")
        hooks = rx.url("ENDPOINT").replace("ENDPOINT", "<endpoint>")  # the placeholder as typed, not URL-escaped
        print(f"  send webhooks to  {hooks}   (any name)")
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


def events_command(args, extra) -> int:
    """The newest events, oldest first: one page of the receiver's API, or of a database file."""
    if not 1 <= args.limit <= 1000:
        raise ArgumentError(f"--limit is how many of the newest events to show, 1 to 1000, got {args.limit}")
    if args.db:
        from .._receiving.store import EventStore

        store = EventStore(args.db)
        rows, total, _ = store.page(args.endpoint, limit=args.limit, newest=True)
        store.close()
    else:
        params = {"newest": "1", "limit": args.limit, **({"endpoint": args.endpoint} if args.endpoint else {})}
        page = get_json(f"{args.url.rstrip('/')}/api/events", params)
        rows, total = page["events"], page["total"]
    rows.reverse()  # oldest first, as the table reads
    if args.json:
        print(json.dumps(rows, indent=2))
    elif not rows:
        print("no events captured yet")
    else:
        from .._receiving.store import to_frame

        print(to_frame(rows).to_string(na_rep=""))
    if total > len(rows):
        print(f"the newest {len(rows)} of {total} events; --limit shows up to 1000, and the page or "
              "/api/export.csv has them all", file=sys.stderr)  # fmt: skip
    return 0


def import_command(args, extra) -> int:
    """Events of an export file added to a SQLite file, through the receiving wing's importer."""
    from .._receiving.importing import import_capture
    from .._receiving.store import EventStore

    store = EventStore(args.db)
    try:
        count = import_capture(store, args.file)
    except OSError as error:
        raise WebhooklabError(f"cannot read {args.file}: {error.strerror or error}") from None
    finally:
        store.close()
    print(f"imported {count} event(s) from {args.file} into {args.db}: `webhooklab events --db {args.db}` lists "
          f"them, `webhooklab serve --db {args.db}` shows them on the inspector page")  # fmt: skip
    return 0
