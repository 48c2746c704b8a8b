"""Where the learner's browser finds a receiver's page: on a laptop, a JupyterHub, Binder or Colab.

The kernel's 127.0.0.1 is the browser's only when both run on one machine. Elsewhere
the page is reached through the Jupyter server's proxy (jupyter-server-proxy, at
<base_url>/proxy/<port>/) or the host's own mechanism. As with dask's dashboard
link, a template says where: `Receiver(link=...)`, else the WEBHOOKLAB_LINK
environment variable, else what the environment shows: a JupyterHub's
JUPYTERHUB_SERVICE_PREFIX, Colab's kernel proxy, or the receiver's own address.
"""

from __future__ import annotations

import os
import string
import sys
from urllib.parse import urlsplit

from .._errors import UsageError, UsageTypeError

ENVIRONMENT = "WEBHOOKLAB_LINK"
HUB = "{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}/"
# Pages allowed to embed the inspector, besides its own origin (which is the notebook's behind a proxy).
FRAME_ANCESTORS = ("http://127.0.0.1:*", "http://localhost:*", "https://127.0.0.1:*", "https://localhost:*",
                   "vscode-webview:")  # fmt: skip
COLAB_FRAME_ANCESTORS = ("https://colab.research.google.com", "https://*.googleusercontent.com")
FRAME_ENVIRONMENT = "WEBHOOKLAB_FRAME_ANCESTORS"


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
    sources = ["'self'", *FRAME_ANCESTORS, *(COLAB_FRAME_ANCESTORS if in_colab() else ())]
    sources += os.environ.get(FRAME_ENVIRONMENT, "").split() + list(extra)
    for source in sources:
        if not source or any(c in source for c in ";,'\"\r\n ") and source != "'self'":
            raise UsageError(f"a frame ancestor is one origin such as https://hub.example.org, got {source!r}")
    return " ".join(dict.fromkeys(sources))
