"""`webhooklab classroom send`: a broadcast asked of the running class server, each learner's outcome printed as it ends.

The command finds the server through the class folder: `class-url` (written by `webhooklab classroom`
while it runs, removed when it stops) says where it listens, and `admin-token` is the dashboard's
key. It asks the dashboard's API (broadcast_api.py) to start the broadcast, then reads it until every
copy is delivered or given up. Neither the admin token nor any secret is printed.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from .._errors import WebhooklabError
from .._redact import mask
from .folder import write_private

URL_FILE = "class-url"
POLL = 0.25  # seconds between two readings of a running broadcast
TIMEOUT = 10  # seconds the server has to answer one reading


def remember_url(server) -> Path:
    """Write where the class server listens into its folder, for `webhooklab classroom send`; returns the file."""
    file = server.folder.path / URL_FILE
    write_private(file, server.class_url + "\n")
    return file


def run(args) -> int:
    """Start the broadcast that `args` describe, print each learner's outcome as it ends; 0 when all are delivered."""
    dashboard = _dashboard(Path(args.dir).expanduser().resolve())
    asked = {"provider": args.provider, "event_type": args.event_type, "endpoint": args.endpoint,
             "learner": args.learner, "replay": args.replay}  # fmt: skip
    started = _call("POST", dashboard + "api/broadcasts", json={k: v for k, v in asked.items() if v is not None},
                    headers={"X-Webhooklab": "1"})  # fmt: skip
    policy, many = started["policy"], started["learners"] != 1
    event = f"{started['title']} {started['event_type']}" + (f" ({started['event_id']})" if started["event_id"] else "")
    print(f"broadcast {started['id']}: {event} to {started['learners']} learner{'s' * many}, at "
          f"/hooks/{started['endpoint']} of {'each' if many else 'the'} bin, signed with {'each' if many else 'the'} "
          "learner's own secret")  # fmt: skip
    replayed = f"replayed {started['speed']:g} times faster" if policy["attempts"] > 1 else "no retries"
    print(f"  {policy['name']}: {policy['attempts']} attempt(s) at {', '.join(policy['schedule'])}, {replayed}; "
          f"each attempt waits up to {_timeout(policy['timeout'])}")
    if policy["assumption"]:
        print(f"  assumption: {policy['assumption']}")
    sys.stdout.flush()
    printed: set[str] = set()
    version, pause = None, threading.Event()
    try:
        while True:
            params = {} if version is None else {"version": version}
            state = _call("GET", dashboard + f"api/broadcasts/{started['id']}", params=params)
            if not state.get("unchanged"):
                version = state["version"]
                for copy in state["copies"]:
                    if copy["learner"] not in printed and copy["outcome"] in ("delivered", "gave up"):
                        printed.add(copy["learner"])
                        print(outcome_line(copy), flush=True)
                if state["done"]:
                    break
            pause.wait(POLL)
    except KeyboardInterrupt:
        print(f"\nstopped watching; broadcast {started['id']} goes on in the class server: see your dashboard")
        return 1
    counts = state["counts"]
    print(f"{counts['delivered']} delivered, {counts['gave up']} gave up, of {state['learners']}")
    return 0 if counts["delivered"] == state["learners"] else 1


def outcome_line(copy: dict) -> str:
    """learner-02  delivered after 3 attempts: 500 at +0 s, 500 at +30 min, 200 at +1 h 30 min."""
    tries = ", ".join(f"{row['status'] or row['error']} at {row['at']}" for row in copy["attempts"])
    word = "delivered" if copy["outcome"] == "delivered" else f"gave up ({copy['status']})"
    count = len(copy["attempts"])
    line = f"  {copy['learner']:<16} {word} after {count} attempt{'s' * (count != 1)}: {tries}"
    return line + (f"; {copy['note']}" if copy.get("note") else "")


def _timeout(timeout) -> str:
    return f"{timeout[0]:g} s to connect and {timeout[1]:g} s to answer" if isinstance(timeout, list) else f"{timeout:g} s"


def _dashboard(folder: Path) -> str:
    """The running class server's dashboard URL, from the class folder's files."""
    start = f"start the class first, `webhooklab classroom --dir {folder}`, or pass the --dir it runs with"
    if not (folder / "admin-token").is_file():
        raise WebhooklabError(f"{folder} is not a class folder (it has no admin-token): {start}")
    try:
        url = (folder / URL_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise WebhooklabError(f"the class in {folder} is not running (no {URL_FILE} file): {start}") from None
    admin = (folder / "admin-token").read_text(encoding="utf-8").strip()
    if not url.startswith(("http://", "https://")) or not admin:
        raise WebhooklabError(f"{folder / URL_FILE} should hold the class server's address, such as "
                              f"http://192.168.1.20:8000, and holds {url[:100]!r}: {start}")  # fmt: skip
    return f"{url.rstrip('/')}/teacher/{admin}/"


def _call(method: str, url: str, **options) -> dict:
    """One call to the dashboard's API; a WebhooklabError with the server's own words when it fails."""
    import requests

    where = url.split("/teacher/")[0]
    shown = f"{where}/teacher/{mask(url.split('/teacher/')[1].split('/')[0], kinded=False)}/..."
    try:
        reply = requests.request(method, url, timeout=TIMEOUT, **options)
    except requests.RequestException as error:
        raise WebhooklabError(
            f"could not reach the class server at {where} ({type(error).__name__}): is `webhooklab classroom` still "
            "running with this --dir? A server stopped without Ctrl-C may have left its address behind"
        ) from None
    try:
        answer = reply.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict) or reply.status_code >= 400:
        said = answer if isinstance(answer, dict) else {"error": " ".join(reply.text.split())[:200]}
        hint = f" ({said['hint']})" if said.get("hint") and reply.status_code != 400 else ""  # 400: the API's own usage
        raise WebhooklabError(f"{shown} answered {reply.status_code}: {said.get('error') or said}{hint}")
    return answer
