"""Where the learner's browser finds a receiver's page: on a laptop, a JupyterHub, Binder or Colab.

The kernel's 127.0.0.1 is the browser's only when both run on one machine. Elsewhere
the page is reached through the Jupyter server's proxy (jupyter-server-proxy, at
<base_url>/proxy/<port>/) or the host's own mechanism. As with dask's dashboard
link, a template says where: `Receiver(link=...)`, else the WEBHOOKLAB_LINK
environment variable, else what the environment shows: a JupyterHub's
JUPYTERHUB_SERVICE_PREFIX, Colab's kernel proxy, or the receiver's own address.
Which pages may show it in a frame (frame_ancestors) is decided here too: the
notebook's, and no other page that happens to be served on this machine.
"""

from __future__ import annotations

import json
import os
import re
import string
import sys
from pathlib import Path
from urllib.parse import urlsplit

from .._errors import UsageError, UsageTypeError

ENVIRONMENT = "WEBHOOKLAB_LINK"
HUB = "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/"
# Pages allowed to embed the inspector, besides its own origin (which is the notebook's behind a proxy) and the
# Jupyter servers running on this machine (notebook_origins): VS Code's notebooks. Never any port of 127.0.0.1, where
# any local web server, or a page it serves, could frame the page and have a click land on its buttons.
FRAME_ANCESTORS = ("vscode-webview:",)
SERVER_FILES = ("jpserver-*.json", "nbserver-*.json")  # what JupyterLab and Notebook write, with their "url"
COLAB_FRAME_ANCESTORS = ("https://colab.research.google.com", "https://*.googleusercontent.com")
FRAME_ENVIRONMENT = "WEBHOOKLAB_FRAME_ANCESTORS"
ORIGIN_HOST = re.compile(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+")  # a name, an IPv4 or an IPv6 address: nothing a policy reads


def in_colab() -> bool:
    return "google.colab" in sys.modules


def template(link: str | None = None) -> str | None:
    """The template in force: the one given, WEBHOOKLAB_LINK, or a JupyterHub's; None means the address itself."""
    if link:
        return link
    if os.environ.get(ENVIRONMENT):
        return os.environ[ENVIRONMENT]
    if os.environ.get("JUPYTERHUB_SERVICE_PREFIX"):
        return HUB
    return None


def page_link(base_url: str, link: str | None = None) -> str:
    """The URL of a receiver's page (ending in /) as the learner's browser reaches it."""
    parts = urlsplit(base_url)
    chosen = template(link)
    if chosen is None and in_colab():
        return _colab(parts.port)
    if chosen is None:
        return base_url.rstrip("/") + "/"
    fields = {**os.environ, "host": parts.hostname or "", "port": parts.port, "base_url": base_url.rstrip("/")}
    try:
        url = chosen.format(**fields)
    except (KeyError, IndexError, ValueError) as error:
        known = ", ".join(["{host}", "{port}", "{base_url}", "and any environment variable"])
        names = [name for _, name, _, _ in string.Formatter().parse(chosen) if name]
        raise UsageError(f"the link template {chosen!r} names {names}: it may use {known} (the problem: {error!r})")
    return url if url.endswith("/") else url + "/"


def _colab(port: int | None) -> str:
    """Colab serves a kernel's port to the browser at a URL of its own; its output module says which."""
    from google.colab.output import eval_js

    url = str(eval_js(f"google.colab.kernel.proxyPort({int(port or 0)})"))
    return url if url.endswith("/") else url + "/"


def origins(extra) -> tuple[str, ...]:
    """frame_ancestors as given to a receiver, checked now (a source that would break the policy) as a tuple."""
    if isinstance(extra, (str, bytes)) or not isinstance(extra, (list, tuple)):
        raise UsageTypeError(
            f"frame_ancestors must be a list of origins, such as ['https://hub.example.org'], got {extra!r}"
        )
    for source in extra:
        if not isinstance(source, str):
            raise UsageTypeError(f"a frame ancestor is one origin such as https://hub.example.org, got {source!r}")
    frame_ancestors(tuple(extra))
    return tuple(extra)


def frame_ancestors(extra: tuple[str, ...] = ()) -> str:
    """The Content-Security-Policy's frame-ancestors: who may show the page inside theirs."""
    sources = ["'self'", *notebook_origins(), *FRAME_ANCESTORS, *(COLAB_FRAME_ANCESTORS if in_colab() else ())]
    sources += os.environ.get(FRAME_ENVIRONMENT, "").split() + list(extra)
    for source in sources:
        if not source or any(c in source for c in ";,'\"\r\n ") and source != "'self'":
            raise UsageError(f"a frame ancestor is one origin such as https://hub.example.org, got {source!r}")
    return " ".join(dict.fromkeys(sources))


def notebook_origins() -> tuple[str, ...]:
    """The origins of this user's running Jupyter servers, whose notebooks show rx.inspector() in a frame.

    Each server writes a file with its URL into Jupyter's runtime folder while it runs. The folder is
    read again only when it changes (a server started or stopped), so a page costs one stat().
    Without jupyter_core (webhooklab installed without JupyterLab) there are none.
    """
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return ()
    folder = Path(jupyter_runtime_dir())
    try:
        key = (folder, folder.stat().st_mtime_ns)
    except OSError:
        return ()
    if _servers_seen[0] != key:
        _servers_seen[:] = [key, tuple(dict.fromkeys(o for p in SERVER_FILES for f in sorted(folder.glob(p))
                                                     for o in _server_origins(f)))]  # fmt: skip
    return _servers_seen[1]


_servers_seen: list = [None, ()]  # (the runtime folder, its modification time), and the origins read from it


def _server_origins(file: Path) -> list[str]:
    """A Jupyter server's origin, as its file says, and its port at 127.0.0.1 and localhost; none if the file is odd."""
    try:
        url = urlsplit(json.loads(file.read_text(encoding="utf-8"))["url"])
        port, host = url.port, url.hostname
    except (OSError, ValueError, KeyError, TypeError, AttributeError):  # gone since, half written, or not a server's
        return []
    if url.scheme not in ("http", "https") or not port or not host or not ORIGIN_HOST.fullmatch(host):
        return []
    host = f"[{host}]" if ":" in host else host
    return [f"{url.scheme}://{name}:{port}" for name in (host, "127.0.0.1", "localhost")]
