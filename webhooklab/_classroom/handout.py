"""The handout: per learner, the one line that joins their bin, its URL as a QR code, and their signing secret.

    handout.csv    name, bin URL, signing secret, page URL, webhook URL: a row per learner
    handout.html   the same, printable, one card per learner: the line for the index notebook's first
                   cells, wl.join_class("<bin URL>"), and a QR code of the bin URL (a PNG in the page itself)

Every value is text in both: escaped in the page, a formula made inert in the CSV.
"""

from __future__ import annotations

import csv
import html
import io

import segno

from .._receiving.export import _cell

COLUMNS = ["name", "bin_url", "signing_secret", "page_url", "webhook_url"]
QR_SCALE = 4  # pixels a module; printed at 30 mm wide whatever the scale, sharp (image-rendering: pixelated)
# Scripts nowhere, styles and the QR codes (data: PNG) only inside the page itself.
POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def handout_row(learner, base_url: str) -> dict:
    """A learner's row of the handout, for the class at `base_url`."""
    bin_url = f"{base_url.rstrip('/')}/b/{learner.token}/"
    return {"name": learner.name, "bin_url": bin_url, "signing_secret": learner.secret, "page_url": bin_url,
            "webhook_url": bin_url + "hooks/<endpoint>"}  # fmt: skip


def handout_csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS)
    writer.writeheader()
    writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


def qr_code(url: str) -> str:
    """The URL as a QR code: a PNG as a data: URI (segno, pure Python), error correction M (15% may be lost)."""
    return segno.make(url, error="m", micro=False).png_data_uri(scale=QR_SCALE, border=4)


CARD = """<section class="card">
  <img class="qr" src="{qr}" alt="QR code of the bin URL of {name}">
  <h2>{name}</h2>
  <p>In the index notebook (00.00-index), under “In a class? Join your bin first”, run this once:</p>
  <pre class="join">wl.join_class("{bin_url}")</pre>
  <dl>
    <dt>Bin URL (the QR code)</dt><dd><code>{bin_url}</code></dd>
    <dt>Webhooks go to</dt><dd><code>{webhook_url}</code></dd>
    <dt>Signing secret</dt><dd><code>{signing_secret}</code></dd>
  </dl>
  <p class="small">Keep the bin URL and the secret to yourself: whoever has the URL can read and change your bin.
  The bin URL is also your bin's page, in a browser.</p>
</section>"""
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>webhooklab class handout</title>
<style>
:root {{ color-scheme: light dark; --text: #1d1d1f; --page: #fff; --muted: #4d4d4d; --line: #767676; --code: #f0f0f0; }}
@media screen and (prefers-color-scheme: dark) {{
  :root {{ --text: #ececec; --page: #121212; --muted: #c4c4c4; --line: #8a8a8a; --code: #262626; }}
}}
@media print {{ :root {{ color-scheme: light; }} }}
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 16px; color: var(--text); background: var(--page); }}
.card {{ border: 1px dashed var(--line); padding: 8px 14px; margin: 0 0 14px; break-inside: avoid; overflow: hidden; }}
.qr {{ float: right; width: 30mm; height: 30mm; margin: 0 0 8px 12px; image-rendering: pixelated; }}
h1 {{ font-size: 22px; }} h2 {{ margin: 4px 0; font-size: 18px; }} dt {{ font-weight: 600; }} dd {{ margin: 0 0 6px; }}
.join {{ font: 15px ui-monospace, monospace; background: var(--code); padding: 6px 8px; white-space: pre-wrap;
         word-break: break-all; }}
code {{ font: 13px ui-monospace, monospace; word-break: break-all; }} .small {{ font-size: 12px; color: var(--muted); }}
@media print {{ body {{ margin: 0; }} .card {{ page-break-inside: avoid; }} }}
</style></head>
<body><main>
<h1>webhooklab class: one card per learner</h1>
{cards}
</main></body></html>
"""


def handout_html(rows: list[dict]) -> str:
    """A printable page, every value escaped: a roster's names are text, never markup."""
    escaped = [{key: html.escape(text, quote=True) for key, text in row.items()} for row in rows]
    cards = [CARD.format(qr=qr_code(row["bin_url"]), **shown) for row, shown in zip(rows, escaped)]
    return PAGE.format(cards="\n".join(cards))
