"""The diagrams in JupyterLab, in a real headless Chromium: each notebook that shows one renders it, with its alt text."""

import shutil

import pytest
from lab_under_test import ROOT, chromium, jupyterlab, needs_browser
from test_diagrams import pictures

pytestmark = needs_browser
SHOWN: dict[str, list[tuple[str, str]]] = {}
for _notebook, _alt, _src in pictures():
    SHOWN.setdefault(_notebook, []).append((_alt, _src))


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of the notebooks (so nothing is written into the repository); yields (URL, token)."""
    home = tmp_path_factory.mktemp("diagrams")
    shutil.copytree(ROOT / "notebooks", home / "workshop")
    with jupyterlab(home, home / "workshop", "diagrams-test") as url:
        yield url.rstrip("/"), "diagrams-test"


@pytest.fixture(scope="module")
def browser():
    with chromium() as instance:
        yield instance


@pytest.mark.parametrize("notebook", sorted(SHOWN))
def test_each_diagram_of_a_notebook_renders_with_its_alt_text(lab, browser, notebook):
    base, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(f"{base}/lab/tree/{notebook}?reset&token={token}")
        page.locator(".jp-Notebook").first.wait_for(timeout=90_000)
        for alt, src in SHOWN[notebook]:
            image = page.locator(f".jp-RenderedMarkdown img[src*='{src.split('/')[-1]}']").first
            image.wait_for(state="attached", timeout=60_000)
            image.scroll_into_view_if_needed()
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(),
                                   timeout=30_000)  # fmt: skip
            assert image.get_attribute("alt") == alt
            assert image.evaluate("img => img.getBoundingClientRect().width") > 200, "shown at a readable size"
    finally:
        page.close()
