"""`webhooklab demo`: the glossary demos as web apps, served by Voilà in a child process, no code on the page.

The demos' notebooks (one cell each) ship in the notebooks' demos/ folder, and their index lists them;
Voilà runs each page's notebook in a kernel of its own and shows only what it displays. The page
template (webhooklab/demos/voila) is found through JUPYTER_PATH, so it needs no installing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import sys
import tempfile
import threading
import time
import webbrowser
from pathlib import Path

from .._errors import WebhooklabError
from .common import ArgumentError, add_command
from .lab import _installed, launch

TEMPLATES = Path(__file__).parent.parent / "demos"  # holds voila/templates/webhooklab
CULL_AFTER = 120  # seconds a kernel no page is connected to may stay idle
READY_WAIT = 60.0  # seconds Voilà may take to answer before the browser is opened all the same
LINK = re.compile(r"^## \[(?P<title>[^\]]+)\]\((?P<name>[\w-]+)\.ipynb\)$", re.MULTILINE)


def add(commands) -> None:
    demo = add_command(
        commands, "demo", "show one idea about webhooks as a live web app, with no code on screen",
        "Serve the glossary demos (a webhook arriving, push against poll, a signature, retries, duplicates, "
        "replay, reaching a laptop) as web pages operated with buttons and sliders, and open one. Each page "
        "runs a real receiver; Ctrl-C stops them all.",
        ["webhooklab demo                     # the list of demos, in the browser",
         "webhooklab demo signature           # one demo",
         "webhooklab demo --list", "webhooklab demo retries --port 8870 --no-browser"],
    )  # fmt: skip
    demo.add_argument("name", nargs="?", metavar="NAME", help="the demo to open (`--list` shows them)")
    demo.add_argument("--list", action="store_true", help="list the demos and stop")
    demo.add_argument("--port", type=int, default=8866, help="port to serve on, 0 for any free one (default: %(default)s)")
    demo.add_argument("--no-browser", action="store_true", help="print the address instead of opening a browser")
    demo.set_defaults(command="demo", run=demo_command)


def demos(folder: Path) -> dict[str, str]:
    """Each demo's name and title, in the order of the demos' index."""
    index = json.loads((folder / "index.ipynb").read_text(encoding="utf-8"))
    text = "\n".join("".join(cell["source"]) for cell in index["cells"] if cell["cell_type"] == "markdown")
    return {found["name"]: found["title"] for found in LINK.finditer(text)}


def demo_command(args, extra) -> int:
    from .._workshop import shipped

    folder = shipped("notebooks") / "demos"
    known = demos(folder)
    if args.list:
        width = max(map(len, known))
        for name, title in known.items():
            print(f"{name:<{width}}  {title}")
        return 0
    if args.name is not None and args.name not in known:
        raise ArgumentError(f"there is no demo called {args.name!r}: the demos are {', '.join(known)}")
    if not 0 <= args.port <= 65535:
        raise ArgumentError(f"--port must be 0 to 65535, got {args.port}")
    if not _installed("voila"):
        raise WebhooklabError("webhooklab demo serves the demos with Voilà, which this install does not have: "
                              "pip install 'webhooklab[lab]'")  # fmt: skip
    port, token = args.port or free_port(), secrets.token_urlsafe(24)  # the pages (and their kernels) are yours alone
    page = f"http://127.0.0.1:{port}/voila/render/{args.name or 'index'}.ipynb?token={token}"
    command = [sys.executable, "-m", "voila", str(folder), "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
               "--Voila.port_retries=0", f"--Voila.token={token}", "--template=webhooklab", "--theme=light"]  # fmt: skip
    paths = [str(TEMPLATES), *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(paths)  # the child's, and ours: this process only waits for it
    with tempfile.TemporaryDirectory(prefix="webhooklab-demo-") as config:
        command.append(f"--Voila.config_file_paths={configure(Path(config))}")
        threading.Thread(target=announce, args=(port, page, not args.no_browser), daemon=True).start()
        return launch(command)


def configure(folder: Path) -> Path:
    """Voilà's configuration, written in `folder`: kernels that pages left behind are shut down.

    Each page runs a kernel (a receiver, a relay...). A page that goes without saying goodbye (a crashed
    tab, a lost connection) would leave it running for as long as the server runs, so a kernel no page
    is connected to is shut down after CULL_AFTER seconds. (Voilà's kernels kept ready in advance would
    be shut down the same way, and then served dead: the demos start theirs when a page opens.)
    """
    culling = {"cull_idle_timeout": CULL_AFTER, "cull_interval": CULL_AFTER // 4, "cull_connected": False}
    (folder / "voila.json").write_text(json.dumps({"MappingKernelManager": culling}), encoding="utf-8")
    return folder


def announce(port: int, page: str, browse: bool) -> None:
    """Once Voilà answers on `port`, say where the demo is and open it."""
    deadline = time.monotonic() + READY_WAIT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    print(f"webhooklab demo: {page}  (Ctrl-C stops it)", flush=True)
    if browse:
        webbrowser.open(page)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
