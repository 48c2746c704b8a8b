"""Every widget and experiment table the notebooks show fits a JupyterLab notebook at 1280×720 and 1024×768.

A notebook written here displays each one with long, realistic content; Chromium then measures every element
of every output. Nothing may be cut: no box that hides overflow holds more than it shows, no output scrolls
sideways, every entry of a dropdown fits whole or starts with its verdict, which does fit. The measures compare
an element with itself (scrollWidth with clientWidth, a probe's box with the select's), so any font passes.
"""

import nbformat
import pytest
from lab_under_test import ROOT, chromium, jupyterlab, needs_browser

pytestmark = needs_browser
ARTIFACTS = ROOT / "test-artifacts"
IDLE = "Python 3 (ipykernel) | Idle"
SIZES = [(1280, 720), (1024, 768)]

SETUP = """
import requests
import webhooklab as wl
from webhooklab import widgets

secret = wl.Stripe.new_secret()
rx = wl.Receiver(secrets={"payments-eu-west-1": secret}).start()
stripe, pay = wl.Stripe(secret), rx.url("payments-eu-west-1")
capturable = stripe.event("payment_intent.succeeded", amount=123456789, currency="eur")
capturable["type"] = "payment_intent.amount_capturable_updated"  # one of Stripe's longest event types
stripe.send(capturable, to=pay)
stripe.send(stripe.event("customer.subscription.created"), to=pay)
wl.Stripe().send(stripe.event("payment_intent.succeeded", amount=2000), to=pay)  # another secret: ✗
body, headers = stripe.sign(stripe.event("charge.succeeded", amount=2500))
for _ in range(2):
    requests.post(pay, data=body, headers=headers, timeout=5)  # the same delivery twice: a duplicate
requests.post(pay, data=body.replace(b"2500", b"9500", 1), headers=headers, timeout=5)  # tampered: ✗
note = {"type": "subscription.renewal_reminder_scheduled_for_the_next_billing_cycle",
        "message": "a customer wrote a long note that runs on and on " * 8}
requests.post(rx.url("notes-from-a-long-named-integration"), json=note, timeout=5)  # no secret: not checked
wl.GitHub().send(wl.GitHub().event("push", branch="feature/a-very-long-branch-name-for-a-small-fix"),
                 to=rx.url("github-deployments"))
_ = rx.wait_for(8)
"""
CELLS = [
    SETUP,
    "widgets.LiveTable(rx)",
    "panel = widgets.SendPanel(rx, endpoint='payments-eu-west-1-panel')\n"
    "panel.provider.value = 'stripe'\npanel.fields.value = 'amount=5000, currency=eur'\npanel.send()\npanel",
    "widgets.SignatureExplainer(rx, secret=secret)",
    "shopify, down = wl.Shopify(), wl.Receiver().start()  # a receiver of its own: the table above keeps its events\n"
    "down.respond('down', status=500)\n"
    "update = shopify.event('inventory_levels/update')\n"
    "timeline = widgets.RetryTimeline(shopify, update, to=down.url('down'), seconds=1)\n"
    "timeline.start().wait(60)\ntimeline",
    "race = widgets.PushPollRace(duration=4)\nrace.run()\nrace",
    "quiz = widgets.Quiz()\nquiz.choices[0].value = quiz.choices[0].options[0]\n"
    "quiz.blueprint.app.value = 'shopify'\nquiz.blueprint.triggers.index = (0, 1)\nquiz",
    "result = wl.push_vs_poll(duration=4, rate=5, intervals=[0.25, 1, 30], seed=5)  # as notebook 02 runs it\nresult",
    "api = wl.ProviderAPI().start()\npoller = wl.Poller(api, interval=0.1).start()\n"
    "poller.wait_for([api.record('charge.succeeded')['id']], timeout=5)\npoller.stop()\n"
    "import pandas as pd\npd.DataFrame(poller.requests)",
    "print('all shown')",
]

# The errors the notebook's cells show (one stops the rest), and whether every cell has run or one failed.
ERRORS = """() => [...window.jupyterapp.shell.currentWidget.content.model.cells].flatMap(
  (cell) => cell.outputs.toJSON().filter((o) => o.output_type === 'error').map((o) => `${o.ename}: ${o.evalue}`))"""
RAN = f"""() => {{ const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  return Boolean(cells.get(cells.length - 1).executionCount) || ({ERRORS})().length > 0; }}"""

# What is cut, in an output: (what, where, why) for each element that shows less than it holds.
CLIPPED = """
(output) => {
  const found = [];
  const named = (el) => el.tagName.toLowerCase() + [...el.classList].map((c) => '.' + c).join('')
    + (el.textContent.trim() ? ` "${el.textContent.trim().slice(0, 60)}"` : '');
  if (output.scrollWidth > output.clientWidth + 1) {
    found.push(['output scrolls sideways', named(output), `${output.scrollWidth} > ${output.clientWidth}`]);
  }
  const probe = document.createElement('span');
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:pre;left:0;top:0';
  document.body.append(probe);
  const width = (text, font) => { probe.style.font = font; probe.textContent = text;
                                  return probe.getBoundingClientRect().width; };
  for (const el of output.querySelectorAll('*')) {
    const style = getComputedStyle(el);
    if (el.tagName === 'SELECT') {
      const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      for (const option of el.options) {
        const text = option.text.replace(/\u00a0/g, ' ');  // ipywidgets writes its labels' spaces unbreakable
        const verdict = /^[✓✗–] \\S+/.exec(text);
        const shown = verdict ? text.split(' · ').slice(0, 2).join(' · ') : text;
        if (width(text, style.font) > room + 1 && (!verdict || width(shown, style.font) > room + 1)) {
          found.push(['dropdown entry cut', named(el), text]);
        }
      }
      continue;
    }
    if (!el.textContent.trim() && !(el.value || el.placeholder)) continue;  // no text to cut
    if (el.getClientRects().length === 0) continue;  // not shown at all
    const hides = (overflow) => overflow !== 'visible';
    if ((hides(style.overflowX) || style.textOverflow === 'ellipsis') && el.scrollWidth > el.clientWidth + 1) {
      found.push(['cut on the right', named(el), `${el.scrollWidth} > ${el.clientWidth}`]);
    }
    if (hides(style.overflowY) && el.scrollHeight > el.clientHeight + 1) {
      found.push(['cut at the bottom', named(el), `${el.scrollHeight} > ${el.clientHeight}`]);
    }
  }
  probe.remove();
  return found;
}
"""


@pytest.fixture(scope="module")
def notebook_page(tmp_path_factory):
    """JupyterLab with the notebook above, every cell run, in a Chromium page; yields the page."""
    home = tmp_path_factory.mktemp("lab")
    (home / "work").mkdir()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source.strip()) for source in CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(notebook, home / "work" / "fit.ipynb")
    with jupyterlab(home, home / "work", "fit-test") as url, chromium() as browser:
        page = browser.new_page(viewport={"width": SIZES[0][0], "height": SIZES[0][1]})
        page.goto(f"{url}lab/tree/fit.ipynb?reset&token=fit-test")
        page.get_by_text(IDLE).wait_for(timeout=90_000)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.wait_for_function(RAN, timeout=240_000)
        assert page.evaluate(ERRORS) == []
        page.get_by_text(IDLE).wait_for(timeout=90_000)
        yield page  # leaving JupyterLab stops its kernel


FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"
SHOWS_SOMETHING = "e => e.textContent.trim() !== '' || e.querySelector('canvas, svg, img, .lm-Widget') !== null"


def outputs(page):
    """Each cell's output but the first's and the last's (they set up, and say that everything ran).

    A finished progress bar (push_vs_poll's) leaves an empty output behind it: there is nothing in it to cut.
    """
    areas = page.locator(".jp-Cell .jp-OutputArea-output")
    shown = [areas.nth(i) for i in range(areas.count() - 1)]
    return [area for area in shown if area.evaluate(SHOWS_SOMETHING)]


@pytest.mark.parametrize("width,height", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_widget_and_table_fits_without_cutting_its_text(notebook_page, width, height):
    page = notebook_page
    page.set_viewport_size({"width": width, "height": height})
    page.wait_for_function(f"() => window.innerWidth === {width}")
    ARTIFACTS.mkdir(exist_ok=True)
    shown = outputs(page)
    assert len(shown) == len(CELLS) - 2  # one output a cell, but for the setup's and the last
    cut = []
    for number, output in enumerate(shown, 2):
        output.scroll_into_view_if_needed()
        page.evaluate(FRAMES)  # the layout after the scroll is drawn: the measure itself does not wait
        page.screenshot(path=str(ARTIFACTS / f"fit-{width}x{height}-cell{number}.png"))
        cut += [(number, *found) for found in output.evaluate(CLIPPED)]
    assert cut == []


def test_the_explainer_names_each_events_verdict_first(notebook_page):
    page = notebook_page
    explainer = page.locator(".jp-OutputArea-output").filter(has=page.get_by_role("button", name="Reload events"))
    entries = explainer.locator("select").first.evaluate(
        "(select) => [...select.options].map((o) => o.text.replace(/\\u00a0/g, ' '))")  # unbreakable spaces, as written
    assert len(entries) >= 8
    assert all(entry[:2] in ("✓ ", "✗ ", "– ") for entry in entries), entries
    assert {entry[0] for entry in entries} == {"✓", "✗", "–"}  # verified, not, and not checked (no secret)


def test_the_measure_catches_what_is_cut(notebook_page):
    """The checks above could pass by measuring nothing: here each kind of cut is made on purpose, and found."""
    page = notebook_page
    output = outputs(page)[0]
    output.scroll_into_view_if_needed()
    page.evaluate("""(output) => {
      const made = document.createElement('div');
      made.id = 'made-to-overflow';
      made.innerHTML = "<div style='width:40px;overflow:hidden;white-space:nowrap'>text far too long for its box</div>"
        + "<select style='width:60px'><option>a dropdown entry far too long for its box</option></select>"
        + "<div style='width:4000px'>wider than the notebook</div>";
      output.append(made);
    }""", output.element_handle())  # fmt: skip
    try:
        found = output.evaluate(CLIPPED)
    finally:
        page.evaluate("document.getElementById('made-to-overflow').remove()")
    kinds = {kind for kind, _, _ in found}
    assert kinds == {"cut on the right", "dropdown entry cut", "output scrolls sideways"}, found
    assert output.evaluate(CLIPPED) == []  # and without them, the output is whole again
