"""axe-core, the accessibility engine, run inside a page in Chromium: WCAG 2 A and AA and best practice.

The engine comes from its npm package (axe-core, the version below), fetched once per test run with `npm pack`
or, without npm, straight from the npm registry; tests that need it skip without either.
"""

import io
import shutil
import subprocess
import tarfile

import pytest
import requests

AXE_VERSION = "4.14.1"
# WCAG 2.0, 2.1 and 2.2 at levels A and AA, and the best practices (landmarks, headings, empty headers) beside them.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def fetch_axe(folder) -> str:
    """axe.min.js from the npm package, as text."""
    if shutil.which("npm"):
        subprocess.run(["npm", "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(folder)], check=True,
                       capture_output=True, timeout=180, cwd=folder)  # fmt: skip
        archive = tarfile.open(next(folder.glob("axe-core-*.tgz")))
    else:
        url = f"https://registry.npmjs.org/axe-core/-/axe-core-{AXE_VERSION}.tgz"
        try:
            reply = requests.get(url, timeout=60)
            reply.raise_for_status()
        except requests.RequestException as error:
            pytest.skip(f"axe-core could not be fetched (no npm, and {url}: {error})")
        archive = tarfile.open(fileobj=io.BytesIO(reply.content))
    with archive:
        return archive.extractfile("package/axe.min.js").read().decode("utf-8")


@pytest.fixture(scope="session")
def axe_source(tmp_path_factory):
    return fetch_axe(tmp_path_factory.mktemp("axe"))


def violations(page, source: str, *, exclude: list[str] | None = None) -> list[str]:
    """Every violation of TAGS axe-core finds on the page as it is now, one line each (empty: none).

    The engine is evaluated through the browser's debugging protocol, which a page's Content-Security-Policy
    does not govern, so the page is measured under its real policy.
    """
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    context = {"exclude": [[selector] for selector in exclude]} if exclude else "html"
    found = page.evaluate(
        "([context, tags]) => axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"
        "  .then(r => r.violations.map(v => `${v.id} (${v.impact}, ${v.nodes.length}): ` +"
        "    v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' '))"
        "      .join(' | ')))",
        [context, TAGS],
    )  # fmt: skip
    return found
