"""The web inspector: a live page of everything the receiver captured, served by the receiver at /.

The page is static HTML, CSS and JavaScript from this package (no CDN, no
inline script, a strict Content-Security-Policy); it reads the JSON API of
_api.py.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory

from .._links import frame_ancestors

STATIC = Path(__file__).parent / "static"
# Scripts and styles only from this server; nothing inline; nothing else at all. Shown inside
# another page only where a notebook is served (see _links.frame_ancestors), for rx.inspector().
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors "
)

page = Blueprint("page", __name__)


@page.after_app_request
def protect(response: Response) -> Response:
    """The page and the API under a strict policy; the answers to webhooks stay exactly as configured."""
    if not request.path.startswith("/hooks/"):
        extra = current_app.extensions["webhooklab"].frame_ancestors
        response.headers["Content-Security-Policy"] = POLICY + frame_ancestors(extra)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@page.get("/")
def index():
    return send_from_directory(STATIC, "index.html")


@page.get("/favicon.ico")
def no_icon():
    return "", 204


@page.get("/inspector/<path:name>")
def static_file(name: str):
    return send_from_directory(STATIC, name, max_age=0)


@dataclass(frozen=True)
class InspectorView:
    """What rx.inspector() shows in a notebook: a link to the page, and the page itself."""

    url: str
    height: int = 600

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return (
            f'<p><a href="{url}" target="_blank" rel="noopener">Open the webhooklab inspector</a> ({url})</p>'
            f'<iframe src="{url}" width="100%" height="{int(self.height)}" style="border:1px solid #ddd"></iframe>'
        )

    def __repr__(self) -> str:
        return f"webhooklab inspector: {self.url}"
