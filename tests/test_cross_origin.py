"""A hostile page of another site, in a real headless Chromium, tries to drive a running receiver: and gets nothing.

Every request stays on this machine. "Another site" is a page served by a small HTTP server on
127.0.0.2 (IP hosts are each their own site, so it is cross-site to the receiver on 127.0.0.1).
DNS rebinding is played by Chromium's resolver rules: evil.example resolves to 127.0.0.1, and
page.route sends the one request for http://evil.example:<receiver port>/attack to the attacker's
server, as the name's first answer would; the page's "same-origin" requests then reach the
receiver with Host: evil.example:<port>.

The pages come from a real server, not from route.fulfill: while a page has routes, Playwright
answers every CORS preflight itself with "allowed" (which would hide what the browser does with
the X-Webhooklab header), and Chromium counts a fulfilled page as public, so its Local Network
Access checks would stop the rebound requests before they reach the receiver's own defence.
"""

import base64
import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
import requests
from lab_under_test import ROOT, chromium, needs_browser

import webhooklab as wl

ARTIFACTS = ROOT / "test-artifacts"
ATTACKER_HOST = "127.0.0.2"
REBOUND = "evil.example"  # a name the attacker owns, pointed at 127.0.0.1 once the page is loaded
ENDPOINT = "shop"
MARKER = "order-7f3a9c-cross-origin-marker"
BODY = json.dumps({"order": MARKER, "total": 4200}).encode()
RULE_STATUS = 202  # the endpoint rule the attacker tries to turn into a 500
LOCAL_HOSTS = {"127.0.0.1", ATTACKER_HOST, REBOUND}

pytestmark = needs_browser


# What the attacker's page does: each attempt is recorded in window.report (outcomes: what happened;
# read: every piece of text it got back from the receiver), then document.title says it is finished.
COMMON_JS = r"""
"use strict";
const report = { outcomes: {}, read: [], errors: [], done: false };
window.report = report;
window.addEventListener("error", (event) => report.errors.push(String(event.message)));

function keep(name, text) {
  if (text) report.read.push(`${name}: ${text}`);
}

async function attempt(name, run) {
  try {
    report.outcomes[name] = await run();
  } catch (error) {
    report.outcomes[name] = `rejected: ${error}`;
  }
}

async function answer(name, reply) {
  const text = await reply.text();
  keep(name, text);
  return { type: reply.type, status: reply.status, text };
}

function finish() {
  report.done = true;
  document.getElementById("out").textContent = JSON.stringify(report, null, 2);
  document.title = "attack finished";
}
"""

CROSS_SITE_JS = r"""
const REPLAY = `${TARGET}/api/events/1/replay`;
const JSON_HEADERS = { "X-Webhooklab": "1", "Content-Type": "application/json" };

function settled(element, ms = 5000) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("neither load nor error"), ms);
    element.addEventListener("load", () => { clearTimeout(timer); resolve("load event"); }, { once: true });
    element.addEventListener("error", () => { clearTimeout(timer); resolve("error event"); }, { once: true });
  });
}

function readFrame(name, frame) {
  const seen = [];
  try {
    const doc = frame.contentDocument;  // null for a document of another origin
    if (doc === null) seen.push("contentDocument is null");
    else {
      const text = doc.documentElement ? doc.documentElement.innerText : "";
      keep(`${name} (contentDocument of ${doc.URL})`, text);
      seen.push(`contentDocument readable: ${doc.URL}, ${text.length} characters`);
    }
  } catch (error) {
    seen.push(`contentDocument threw ${error}`);
  }
  try {
    const text = frame.contentWindow.document.body.innerText;
    keep(`${name} (contentWindow)`, text);
    seen.push(`contentWindow.document readable, ${text.length} characters`);
  } catch (error) {
    seen.push(`contentWindow.document threw ${error.name}`);
  }
  return seen.join("; ");
}

function frame(name) {
  const node = document.createElement("iframe");
  node.name = name;
  node.style.display = "none";
  document.body.append(node);
  return node;
}

async function submitForm(name, enctype, fields) {
  const sink = frame(name);
  const form = document.createElement("form");
  Object.assign(form, { method: "POST", action: REPLAY, enctype, target: name });
  for (const [key, value] of fields) {
    const input = document.createElement("input");
    Object.assign(input, { type: "hidden", name: key, value });
    form.append(input);
  }
  document.body.append(form);
  const done = settled(sink);
  form.submit();
  return `${await done}; ${readFrame(name, sink)}`;
}

async function embed(name, tag, url) {
  const node = document.createElement(tag);
  if (tag === "iframe") node.style.display = "none";
  node.src = url;
  const done = settled(node);
  document.body.append(node);
  const outcome = await done;
  return tag === "iframe" ? `${outcome}; ${readFrame(name, node)}` : outcome;
}

(async () => {
  // 1. A simple request: no preflight, so it reaches the server, which must refuse it.
  await attempt("1 no-cors POST text/plain to replay", async () => answer("1", await fetch(REPLAY, {
    method: "POST", mode: "no-cors", headers: { "Content-Type": "text/plain" },
    body: JSON.stringify({ url: `${TARGET}/hooks/shop` }),
  })));
  // 2. Forms, auto-submitted into hidden frames: text/plain shaped as JSON, and urlencoded.
  await attempt("2a form POST text/plain to replay", () => submitForm("sink-text", "text/plain",
    [[`{"url": "${TARGET}/hooks/shop", "pad": "`, `"}`]]));
  await attempt("2b form POST urlencoded to replay", () => submitForm("sink-urlencoded",
    "application/x-www-form-urlencoded", [["url", `${TARGET}/hooks/shop`], ["X-Webhooklab", "1"]]));
  // 3. The header the server wants: it makes the browser ask first, and the server never says yes.
  await attempt("3a POST replay with X-Webhooklab and JSON", async () => answer("3a", await fetch(REPLAY, {
    method: "POST", headers: JSON_HEADERS, body: "{}",
  })));
  await attempt("3b no-cors POST replay with X-Webhooklab", async () => answer("3b", await fetch(REPLAY, {
    method: "POST", mode: "no-cors", headers: { "X-Webhooklab": "1" }, body: "{}",  // no-cors drops the header
  })));
  // 4. Changing the endpoint's answer.
  await attempt("4a PUT endpoint rule with X-Webhooklab", async () => answer("4a",
    await fetch(`${TARGET}/api/endpoints/shop`, { method: "PUT", headers: JSON_HEADERS, body: '{"status": 500}' })));
  await attempt("4b no-cors PUT endpoint rule", async () => answer("4b",
    await fetch(`${TARGET}/api/endpoints/shop`, { method: "PUT", mode: "no-cors", body: '{"status": 500}' })));
  // 5. Reading the API with CORS: no CORS headers come back, so every promise must reject.
  for (const path of ["/api/events", "/api/events/1", "/api/export.csv", "/api/export.json",
                      "/api/endpoints", "/api/events/1/inspect", "/api"]) {
    await attempt(`5 CORS GET ${path}`, async () => answer(`5 ${path}`, await fetch(TARGET + path)));
  }
  // 6. No-cors loads: a script, an image, and frames whose contents the page tries to read.
  await attempt("6a script src /api/events", () => embed("6a", "script", `${TARGET}/api/events`));
  await attempt("6b script src /api/events/1", () => embed("6b", "script", `${TARGET}/api/events/1`));
  await attempt("6c img src /api/events", () => embed("6c", "img", `${TARGET}/api/events`));
  await attempt("6d iframe /api/events", () => embed("6d", "iframe", `${TARGET}/api/events`));
  await attempt("6e iframe /api/events/1", () => embed("6e", "iframe", `${TARGET}/api/events/1`));
  await attempt("6f iframe of the inspector page", () => embed("6f", "iframe", `${TARGET}/`));
  finish();
})();
"""

REBOUND_JS = r"""
(async () => {
  // The page's own origin is http://evil.example:<port>, which now resolves to the receiver.
  for (const path of ["/api/events", "/api/events/1", "/api/export.csv", "/api/endpoints", "/api", "/"]) {
    await attempt(`GET ${path}`, async () => answer(`GET ${path}`, await fetch(path)));
  }
  await attempt("POST replay with X-Webhooklab", async () => answer("POST replay", await fetch(
    "/api/events/1/replay",
    { method: "POST", headers: { "X-Webhooklab": "1", "Content-Type": "application/json" }, body: "{}" })));
  await attempt("PUT endpoint rule with X-Webhooklab", async () => answer("PUT rule", await fetch(
    "/api/endpoints/shop",
    { method: "PUT", headers: { "X-Webhooklab": "1", "Content-Type": "application/json" }, body: '{"status": 500}' })));
  finish();
})();
"""


def attacker_html(script: str, target: str = "") -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>attack running</title></head><body>'
        "<h1>Win a prize!</h1><p>(a page of another origin, trying to use the webhooklab receiver)</p>"
        '<pre id="out" style="font-size:10px;white-space:pre-wrap"></pre>'
        f"<script>const TARGET = {json.dumps(target)};\n{COMMON_JS}\n{script}</script></body></html>"
    )


# -- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Chromium with the rule that resolves REBOUND to 127.0.0.1, for the whole module."""
    with chromium(f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1") as instance:
        yield instance


class Recorder:
    """Every request that reaches the receiver's page and API, and its answer: wraps the app's WSGI callable.

    Playwright cannot see the headers or the answer of a request the browser then blocked, so what
    arrived is recorded where it arrives.
    """

    HEADERS = ("Host", "Origin", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Content-Type", "X-Webhooklab",
               "Access-Control-Request-Method", "Access-Control-Request-Headers")  # fmt: skip

    def __init__(self, app):
        self.rows: list[dict] = []
        self._lock = threading.Lock()
        self._inner = app.wsgi_app
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/hooks/"):
            return self._inner(environ, start_response)
        answered = {}

        def recording(status, headers, exc_info=None):
            answered.update(status=int(status.split()[0]), headers=dict(headers))
            return start_response(status, headers, exc_info)

        result = self._inner(environ, recording)
        try:
            body = b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()
        keys = {name: "CONTENT_TYPE" if name == "Content-Type" else "HTTP_" + name.upper().replace("-", "_")
                for name in self.HEADERS}  # fmt: skip
        row = {
            "browser": "python-requests" not in environ.get("HTTP_USER_AGENT", ""),
            "request": f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}",
            "headers": {name: environ[key] for name, key in keys.items() if environ.get(key)},
            "status": answered.get("status"),
            "cors": {k: v for k, v in answered.get("headers", {}).items() if k.lower().startswith("access-control")},
            "body": body.decode("utf-8", "replace")[:400],
        }
        with self._lock:
            self.rows.append(row)
        return [body]

    def from_browser(self) -> list[dict]:
        """The rows of requests the browser made (not those of this test's own checks)."""
        with self._lock:
            return [{k: v for k, v in row.items() if k != "browser"} for row in self.rows if row["browser"]]


@pytest.fixture
def victim():
    """A receiver with one captured event at `shop`, a rule that answers 202 there, and a recorder."""
    with wl.Receiver() as receiver:
        receiver.recorder = Recorder(receiver.app)
        receiver.respond(ENDPOINT, status=RULE_STATUS)
        sent = requests.post(receiver.url(ENDPOINT), data=BODY, headers={"Content-Type": "application/json"}, timeout=5)
        assert sent.status_code == RULE_STATUS and receiver.store.count() == 1
        yield receiver
    receiver.close()


@pytest.fixture
def attacker(victim, request):
    """The attacker's web server, on http://127.0.0.2:<free port>: /attack (cross-site) and /rebind (DNS rebinding).

    Parametrized with "127.0.0.1", it listens on another port of the receiver's own address instead:
    another origin of the same site, as any other local web server is (Jupyter's, a dev server).
    """
    host = getattr(request, "param", ATTACKER_HOST)
    pages = {"/attack": attacker_html(CROSS_SITE_JS, victim.base_url).encode(),
             "/rebind": attacker_html(REBOUND_JS).encode()}
    with site(host, pages) as url:
        yield url


@contextlib.contextmanager
def site(host: str, pages: dict[str, bytes]):
    """A small web server on `host` that serves `pages` (path: HTML) and 404 for anything else; yields its URL."""

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            page = pages.get(self.path, b"")
            self.send_response(200 if page else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args):
            pass

    try:
        server = ThreadingHTTPServer((host, 0), Site)
    except OSError as error:
        pytest.skip(f"cannot listen on {host} on this machine ({error})")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Traffic:
    """Every request a page makes, as the browser saw it: its URL, and why it failed if it did."""

    def __init__(self, page):
        self.seen: list[list] = []
        page.on("request", lambda request: self.seen.append([request.method, request.url, None]))
        page.on("requestfailed", lambda request: self._failed(request))

    def _failed(self, request):
        for row in self.seen:
            if row[:2] == [request.method, request.url] and row[2] is None:
                row[2] = request.failure
                return

    def hosts(self) -> set[str]:
        return {urlsplit(url).hostname for _, url, _ in self.seen}

    def lines(self) -> list[str]:
        return [f"{method} {url}" + (f" -> {failure}" if failure else "") for method, url, failure in self.seen]


def leaks(text: str) -> list[str]:
    """The pieces of the captured event found in `text` (JSON inside JSON included)."""
    plain = text.replace('\\"', '"')
    secrets = [MARKER, base64.b64encode(BODY).decode()[:24], f"/hooks/{ENDPOINT}",
               f'"endpoint":"{ENDPOINT}"', f'"endpoint": "{ENDPOINT}"']  # fmt: skip
    return [secret for secret in secrets if secret in plain]


def assert_untouched(victim):
    assert victim.store.count() == 1, [repr(event) for event in victim.store.list()]
    rule = victim.responses.rules()[ENDPOINT]
    assert (rule.status, rule.delay, rule.fail_first, rule.body, rule.headers) == (RULE_STATUS, 0.0, 0, None, {})
    rows = requests.get(victim.base_url + "/api/endpoints", timeout=5).json()["endpoints"]
    assert rows == [{"endpoint": ENDPOINT, "events": 1, "status": RULE_STATUS, "delay": 0.0, "fail_first": 0}]


def attack(browser, url: str, screenshot: str, *, served_by: str | None = None):
    """Open the attacker's page in a fresh context; return its report and what the browser sent.

    `served_by`: the URL that really answers for `url` (that one URL only; every other request
    goes to the network as it is).
    """
    context = browser.new_context()
    try:
        page = context.new_page()
        if served_by is not None:
            page.route(lambda address: address == url, lambda route: route.continue_(url=served_by))
        traffic = Traffic(page)
        page.goto(url)
        page.wait_for_function("window.report && window.report.done", timeout=20_000)
        assert page.title() == "attack finished"
        report = page.evaluate("window.report")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
        return report, traffic
    finally:
        context.close()


# -- the attacks --------------------------------------------------------------------------------


def attacked(victim, browser, url: str, screenshot: str, **options):
    """Run an attack: the page's report, what reached the receiver, and both as evidence for a failure."""
    report, traffic = attack(browser, url, screenshot, **options)
    arrived = victim.recorder.from_browser()
    evidence = json.dumps({"page": report, "browser": traffic.lines(), "receiver": arrived}, indent=1)
    print(evidence)
    assert traffic.hosts() <= LOCAL_HOSTS, evidence  # every request stayed on this machine
    return report, arrived, evidence


@pytest.mark.parametrize("attacker", [ATTACKER_HOST, "127.0.0.1"], ids=["cross-site", "same-site"], indirect=True)
def test_a_page_of_another_origin_can_neither_change_nor_read_anything(victim, attacker, browser):
    cross_site = urlsplit(attacker).hostname == ATTACKER_HOST
    screenshot = "cross-origin-attacker.png" if cross_site else "cross-origin-same-site.png"
    report, arrived, evidence = attacked(victim, browser, attacker + "/attack", screenshot)
    outcomes = report["outcomes"]
    assert len(outcomes) == 20 and report["errors"] == [], evidence
    # Nothing happened on the receiver, and the API answers a normal local client as before.
    assert_untouched(victim)
    # The page read nothing of the event: not in a response, a frame, an error message, anything.
    assert report["read"] == [] and leaks(json.dumps(report)) == [], evidence

    # Every fetch rejects: those that need a preflight never leave, and the answers to simple ones are
    # blocked (Cross-Origin-Resource-Policy), so not even an opaque response comes back.
    for name, outcome in outcomes.items():
        if name[0] in "1345":
            assert isinstance(outcome, str) and outcome.startswith("rejected: TypeError"), (name, evidence)
    for name, outcome in outcomes.items():
        if name[:2] in ("2a", "2b", "6d", "6e", "6f"):  # frames: loaded, but of another origin
            assert outcome.endswith("contentDocument is null; contentWindow.document threw SecurityError"), evidence
        if name[:2] in ("6a", "6b", "6c"):
            assert outcome == "error event", (name, evidence)

    # What reached the receiver: no answer let the page in (no CORS header), no replay carried the header,
    # and no PUT was ever sent: each preflight asking for X-Webhooklab went unanswered.
    assert all(row["cors"] == {} for row in arrived), evidence
    replays = [row for row in arrived if row["request"] == "POST /api/events/1/replay"]
    assert len(replays) == 4, evidence  # 1, 2a, 2b and 3b (without its header); 3a stopped at its preflight
    assert all(row["status"] == 403 and "X-Webhooklab" not in row["headers"] for row in replays), evidence
    assert not [row for row in arrived if row["request"].startswith("PUT")], evidence
    preflights = [row for row in arrived if row["request"].startswith("OPTIONS")]
    asked = {row["request"] for row in preflights}
    assert asked == {"OPTIONS /api/events/1/replay", "OPTIONS /api/endpoints/shop"}, evidence
    assert all("x-webhooklab" in row["headers"]["Access-Control-Request-Headers"] for row in preflights), evidence
    sites = {row["headers"]["Sec-Fetch-Site"] for row in arrived}
    if cross_site:  # the API refuses whatever the browser says comes from another site: it answers nothing at all
        assert sites == {"cross-site"}, evidence  # so the inspector framed by 6f never ran (frame-ancestors)
        assert all(row["status"] == 403 for row in arrived if row["request"] != "GET /"), evidence
        assert all(leaks(row["body"]) == [] for row in arrived), evidence
    else:  # the same site (another port): the API answers reads, and the browser keeps the answers from the page
        assert sites <= {"same-site", "same-origin"}, evidence
        assert all("has none" in row["body"] for row in replays), evidence  # refused for want of the header
        reads = ("GET /api/events", "GET /api/endpoints")
        answered = [row for row in arrived if row["request"] in reads and row["status"] == 200]
        assert answered and all(leaks(row["body"]) for row in answered), evidence  # what the page never got to read
        # frame-ancestors names the notebook servers, not every port of 127.0.0.1: the inspector framed by 6f
        # never ran, so no click in a near-invisible frame could land on its replay button.
        assert [row for row in arrived if row["headers"]["Sec-Fetch-Site"] == "same-origin"] == [], evidence


def test_a_rebound_name_gets_a_403_even_from_its_own_origin(victim, attacker, browser):
    """DNS rebinding: the page came from the attacker's server, and now its name resolves to the receiver."""
    url = f"http://{REBOUND}:{victim.port}/attack"
    report, arrived, evidence = attacked(victim, browser, url, "cross-origin-rebinding.png", served_by=attacker + "/rebind")
    outcomes = report["outcomes"]
    assert len(outcomes) == 8 and report["errors"] == [], evidence
    host = f"{REBOUND}:{victim.port}"
    for name, outcome in outcomes.items():
        # Same origin, so the page reads each answer: a 403 that names the Host, and nothing of the events.
        assert isinstance(outcome, dict) and outcome["status"] == 403, (name, evidence)
        assert f"Host: '{host}'" in json.loads(outcome["text"])["error"], (name, evidence)
    assert leaks(json.dumps(report)) == [], evidence
    assert len(arrived) == 8, evidence  # the page itself came from the attacker's server, not from the receiver
    assert all(row["headers"]["Host"] == host and row["status"] == 403 for row in arrived), evidence
    # Chromium sends Sec-Fetch-* only to trustworthy origins (https, localhost, 127.x), and
    # http://evil.example is not one: here the Host check is all that stands.
    assert not [row for row in arrived if "Sec-Fetch-Site" in row["headers"]], evidence
    assert_untouched(victim)


def test_the_inspector_page_itself_can_replay_and_change_the_rule(victim, browser):
    """The control: the same requests from the receiver's own page work, so the protections block only others."""
    context = browser.new_context()
    try:
        page = context.new_page()
        traffic = Traffic(page)
        page.goto(victim.base_url + "/")
        page.locator("#rows tr").first.click()
        page.get_by_role("button", name="Replay").click()
        page.get_by_text(f"answered {RULE_STATUS}").wait_for(timeout=5000)
        assert victim.store.count() == 2  # a replay is stored before it is answered

        # The attacker's requests 5, 3a and 4a, word for word, from the page's own origin.
        read = page.evaluate("""async () => await (await fetch("/api/events/1")).text()""")
        replayed = page.evaluate("""async () => (await fetch("/api/events/1/replay", { method: "POST",
            headers: { "X-Webhooklab": "1", "Content-Type": "application/json" }, body: "{}" })).status""")
        changed = page.evaluate("""async () => (await fetch("/api/endpoints/shop", { method: "PUT",
            headers: { "X-Webhooklab": "1", "Content-Type": "application/json" }, body: '{"status": 500}' })).json()""")
    finally:
        context.close()
    assert MARKER in read and leaks(read)
    assert replayed == 200 and victim.store.count() == 3
    assert changed["status"] == 500 and victim.responses.rules()[ENDPOINT].status == 500
    assert [event.body for event in victim.store.list()] == [BODY] * 3
    assert traffic.hosts() == {"127.0.0.1"}


@pytest.fixture
def framing_page(victim):
    """A page on another port of 127.0.0.1 that shows the inspector in a frame, as a notebook does."""
    page = f'<!doctype html><iframe src="{victim.base_url}/" width="800" height="600"></iframe>'.encode()
    with site("127.0.0.1", {"/": page}) as url:
        yield url + "/"


def framed_inspector_ran(victim, browser, url: str) -> bool:
    """Open `url`, which frames the inspector: whether the inspector ran in the frame (and asked its API for events)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        asked = []
        page.on("request", lambda request: asked.append(request.url))
        page.goto(url, wait_until="load")  # the frame has its document by then, or its refusal
        [frame] = page.main_frame.child_frames
        if not frame.url.startswith(victim.base_url):
            return False  # refused: Chromium shows its own error page in the frame
        if not any("/api/" in address for address in asked):
            page.wait_for_event("request", lambda request: "/api/" in request.url, timeout=10_000)
        return True
    finally:
        context.close()


@pytest.mark.parametrize("listed", [True, False], ids=["a notebook server's page", "another local page"])
def test_only_a_running_notebook_servers_pages_may_frame_the_inspector(victim, browser, framing_page, listed,
                                                                        tmp_path, monkeypatch):  # fmt: skip
    """Jupyter lists each running server in its runtime folder: that origin frames the page; another port does not."""
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))
    port = urlsplit(framing_page).port if listed else urlsplit(framing_page).port + 1
    (tmp_path / "jpserver-4242.json").write_text(json.dumps({"url": f"http://localhost:{port}/", "pid": 4242}))
    assert framed_inspector_ran(victim, browser, framing_page) is listed, victim.recorder.from_browser()
