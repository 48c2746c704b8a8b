"""Notebook 03 in real JupyterLab, in headless Chromium: Run All ends cleanly and the signature explainer reads well.

What only a browser shows: whether long digests are clipped at the cell's edge, whether the explainer's
dropdown tells similar events apart, and whether anything was logged as an error along the way (JupyterLab's
log console, where widget callbacks report, and Chromium's own console). Select it with `-k jupyterlab`.
"""

import re
import shutil
import time

import pytest
from lab_under_test import CHROMIUM, CHROMIUM_ARGS, ROOT, jupyterlab

playwright = pytest.importorskip("playwright.sync_api", reason="playwright is part of the test extra")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium on this machine (CI installs it)")

NOTEBOOK = "03.00-security.ipynb"
ARTIFACTS = ROOT / "test-artifacts"
IDLE = "Python 3 (ipykernel) | Idle"

# The notebook's state, read through JupyterLab's own model (exposed with --LabApp.expose_app_in_browser).
NOTEBOOK_STATE = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.content.model) return null;
    const cells = panel.content.model.cells, state = {code: 0, ran: 0, errors: [], expected: []};
    for (let i = 0; i < cells.length; i++) {
        const cell = cells.get(i);
        if (cell.type !== 'code') continue;
        state.code += 1;
        if (cell.executionCount !== null) state.ran += 1;
        const tags = cell.getMetadata('tags') || [];
        for (const output of cell.outputs.toJSON()) {
            if (output.output_type !== 'error') continue;
            const error = {cell: i, ename: output.ename, evalue: String(output.evalue).slice(0, 300)};
            (tags.includes('raises-exception') ? state.expected : state.errors).push(error);
        }
    }
    return state;
}"""

# What a reader sees, asked so that the answer does not depend on the fonts installed (no pixel width is compared
# with a number). Text in a box that grows with it, or that may wrap, must never be wider than its box: the box or
# the wrapping makes room in any font. Text kept on one line in a box of its own width, which cuts what does not fit
# (a label, a button, the dropdown's face), must fit with a tenth of its room to spare, so that a font a tenth wider
# than this machine's fits too. A dropdown's face shows the chosen option, cut at its edge, and its list shows every
# option whole (the option texts tell the events apart, below): the face must show the event's verdict, type and
# what comes next.
SPARE = 0.9
READING = """root => {
    const single = e => { const s = getComputedStyle(e);
                          return (['nowrap', 'pre'].includes(s.whiteSpace) && (s.overflowX !== 'visible' ||
                                  s.textOverflow === 'ellipsis')) || e.matches('button, select'); };
    const room = e => { const s = getComputedStyle(e);
                        return e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); };
    const described = e => `${e.tagName.toLowerCase()}.${e.className} ${JSON.stringify(e.innerText || '')}`;
    const clipped = [], cramped = [];
    for (const e of root.querySelectorAll('*')) {
        if (e.clientWidth === 0 || e.closest('select')) continue;
        if (e.matches('select')) {
            const shown = e.options[e.selectedIndex]?.text.split(' · ').slice(0, 3).join(' · ') || '';
            const canvas = document.createElement('canvas').getContext('2d');
            canvas.font = getComputedStyle(e).font;
            const width = canvas.measureText(shown).width;
            if (width > SPARE * room(e)) cramped.push(`${described(e)} shows ${JSON.stringify(shown)} in ${room(e)}px`);
        } else if (single(e) && e.innerText.trim()) {
            const range = document.createRange();
            range.selectNodeContents(e);
            const width = range.getBoundingClientRect().width;
            if (width > SPARE * room(e)) cramped.push(`${described(e)} needs ${Math.round(width)}px of ${room(e)}px`);
        } else if (!single(e) && e.scrollWidth > e.clientWidth + 1) {
            clipped.push(`${described(e).slice(0, 200)}: ${e.scrollWidth}px of content in ${e.clientWidth}px`);
        }
    }
    return {clipped, cramped};
}""".replace("SPARE", str(SPARE))


@pytest.fixture
def lab(tmp_path):
    """JupyterLab on a copy of notebook 03 (and its pictures) in a temporary folder; yields (base URL, token)."""
    workshop = tmp_path / "workshop"
    workshop.mkdir()
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, workshop / NOTEBOOK)
    shutil.copytree(ROOT / "notebooks" / "images", workshop / "images")  # its diagram, as in the learner's copy
    with jupyterlab(tmp_path, workshop, "jupyterlab-test") as url:
        yield url.rstrip("/"), "jupyterlab-test"


def run_all(page, timeout: float = 240) -> dict:
    """Run every cell and wait until each code cell has run and the kernel is idle; returns the notebook's state.

    Stops waiting early when a cell fails unexpectedly, since JupyterLab then runs nothing after it.
    """
    page.get_by_text(IDLE).wait_for(timeout=120_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    deadline = time.monotonic() + timeout
    while True:
        state = page.evaluate(NOTEBOOK_STATE)
        if state and state["errors"]:
            return state
        if state and state["ran"] == state["code"] and page.get_by_text(IDLE).count():
            return state
        assert time.monotonic() < deadline, f"Run All did not finish within {timeout:.0f} s: {state}"
        time.sleep(0.5)


def test_notebook_03_runs_all_in_jupyterlab_and_its_signature_explainer_reads_well(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    console_errors = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda message: message.type == "error" and console_errors.append(message.text))
        page.on("pageerror", lambda error: console_errors.append(f"uncaught: {error}"))
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?reset&token={token}")

        state = run_all(page)
        assert not state["errors"], f"cells failed that are not meant to: {state['errors']}"
        # The cells meant to raise, raised: a forged signature, and a public key asked to sign.
        assert [e["ename"] for e in state["expected"]] == ["SignatureError", "UsageError"], state["expected"]

        outputs = page.locator(".jp-OutputArea-output")
        assert outputs.filter(has_text="Loading widget").count() == 0
        assert outputs.filter(has_text="SignatureExplainer(").count() == 0, "the explainer shows as a bare repr"
        reload = page.get_by_role("button", name="Reload events")
        explainer = page.locator(".widget-vbox").filter(has=reload).last
        explainer.scroll_into_view_if_needed()
        explainer.locator("table").first.wait_for(timeout=30_000)
        explainer.screenshot(path=str(ARTIFACTS / "signature-explainer.png"))

        text = explainer.inner_text()
        assert "Stripe signature" in text and "verdict" in text, text[:500]  # the newest event, explained
        reading = explainer.evaluate(READING)
        assert not reading["clipped"], f"text in the signature explainer is clipped: {reading['clipped']}"
        assert not reading["cramped"], f"a label, button or dropdown of the explainer is cut short: {reading['cramped']}"
        box, cell = explainer.bounding_box(), explainer.locator("xpath=ancestor::div[contains(@class,'jp-OutputArea-output')][1]").bounding_box()
        assert box["x"] + box["width"] <= cell["x"] + cell["width"] + 1, (box, cell)

        choices = explainer.locator(".widget-dropdown").filter(has=page.locator("label", has_text="Event"))
        options = choices.locator("option").evaluate_all("options => options.map(o => o.text)")
        assert len(options) == 4, options  # the four requests of section 8
        assert len(set(options)) == len(options), options
        assert all(option[:1] in "✓✗–" for option in options), options  # the verdict first, before it is cut
        without_number = [re.sub(r"#\d+", "", option) for option in options]
        assert len(set(without_number)) == len(options), f"only the #number tells these apart: {options}"

        # A widget callback that raises outside an Output widget lands here, as an entry at level "error".
        page.evaluate("window.jupyterapp.commands.execute('logconsole:open')")
        log = page.locator(".jp-LogConsolePanel")
        log.wait_for(state="attached", timeout=30_000)
        page.wait_for_timeout(1000)  # the panel fills from the logger as it attaches
        logged = log.locator("[data-log-level='error'], [data-log-level='critical']")
        messages = [entry.locator("xpath=..").inner_text() for entry in logged.all()]
        assert not messages, f"JupyterLab's log console has errors: {messages}"
        page.screenshot(path=str(ARTIFACTS / "notebook-03.png"))
        browser.close()

    # No error is ignored: offline, with news, update checks and autosave off (see `lab`), JupyterLab 4.6 logs
    # none, so any that appears is worth reading.
    assert not console_errors, f"Chromium's console has errors: {console_errors}"
