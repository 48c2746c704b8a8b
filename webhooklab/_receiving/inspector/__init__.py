"""The web inspector: a live page of everything the receiver captured, served by the receiver at /.

The page is static HTML, CSS and JavaScript from this package (no CDN, no
inline script, a strict Content-Security-Policy); it reads the JSON API of
_receiving/api.py.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory

from ..._checks import whole
from ..._errors import UsageError
from ..links import frame_ancestors

STATIC = Path(__file__).parent / "static"
# Scripts and styles only from this server; nothing inline; nothing else at all. Shown inside
# another page only where a notebook is served (see links.frame_ancestors), for rx.inspector().
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors "
)

# What every answer of a page and its API carries (the class dashboard's too): no sniffing, no referrer, no embedding
# of its files by other sites.
SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                "Cross-Origin-Resource-Policy": "same-origin"}  # fmt: skip

page = Blueprint("page", __name__)


def static_page(routes, folder: Path, files: str) -> None:
    """A page at / from `folder`'s index.html, its files at /<files>/<name> (never cached), and no favicon.

    `routes` is a Blueprint or an app: the inspector and the class dashboard are served alike.
    """
    routes.add_url_rule("/", "index", lambda: send_from_directory(folder, "index.html"))
    routes.add_url_rule("/favicon.ico", "no_icon", lambda: ("", 204))
    routes.add_url_rule(f"/{files}/<path:name>", "static_file",
                        lambda name: send_from_directory(folder, name, max_age=0))  # fmt: skip


static_page(page, STATIC, "inspector")
# The room's view of the same receiver: a few numbers in large text (its files are the inspector's, under inspector/).
page.add_url_rule("/projector", "projector", lambda: send_from_directory(STATIC, "projector.html"))


@page.after_app_request
def protect(response: Response) -> Response:
    """The page and the API under a strict policy; the answers to webhooks stay exactly as configured."""
    if not request.path.startswith("/hooks/"):
        extra = current_app.extensions["webhooklab"].frame_ancestors
        response.headers["Content-Security-Policy"] = POLICY + frame_ancestors(extra)
        response.headers.update(SAFE_HEADERS)
    return response


@dataclass(frozen=True)
class InspectorView:
    """What rx.inspector() shows in a notebook: a link to the page, and the page itself."""

    url: str
    height: int = 600

    def __post_init__(self):
        if whole(self.height, "height", "the page's height in pixels, such as 600") < 1:
            raise UsageError(f"height must be at least 1 pixel (600 shows the page well), got {self.height}")

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return (
            f'<p><a href="{url}" target="_blank" rel="noopener">Open the webhooklab inspector</a> ({url})</p>'
            f'<iframe src="{url}" title="webhooklab inspector" width="100%" height="{int(self.height)}" '
            f'style="border:1px solid #8c959f;border-radius:6px"></iframe>'
        )

    def __repr__(self) -> str:
        return f"webhooklab inspector: {self.url}"
