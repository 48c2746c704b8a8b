"""The class server: private bins over real HTTP and real SQLite, the dashboard, the class folder, the command.

Every address is loopback: the class server listens on 127.0.0.2, which plays the classroom's LAN.
"""

import csv
import http.client
import io
import json
import os
import random
import re
import signal
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests

import webhooklab as wl
from webhooklab._classroom import ClassServer
from webhooklab._classroom.folder import MIN_TOKEN, ClassFolder, lan_address, numbered
from webhooklab._receiving.verifiers import Verifiers
from webhooklab._sending.delivery import Delivery

LAN = "127.0.0.2"
CHANGE = {"X-Webhooklab": "1"}
PROVIDERS = (wl.Stripe, wl.GitHub, wl.Shopify)


@pytest.fixture(scope="module")
def class_server(tmp_path_factory):
    server = ClassServer(ClassFolder(tmp_path_factory.mktemp("class") / "c", numbered(3)), host=LAN).start()
    yield server
    server.close()


@pytest.fixture
def klass(class_server):
    """The class server for one test: every bin emptied, and every endpoint answering a plain 200 again."""
    for each in class_server.bins.values():
        each.store.clear()
        each.app.extensions["webhooklab"].responses.reset()
    return class_server


def deliver(learner, url: str, provider_class, marker: str, clock=None):
    """One signed event with the provider's retries; GitHub, which never retries, is redelivered by hand."""
    provider = provider_class(learner.secret)
    event = provider.event(provider_class.event_types()[0])
    event["webhooklab_marker"] = marker
    deliveries = [provider.deliver(event, to=url, clock=clock or wl.VirtualClock())]
    while deliveries[-1].status != "delivered" and len(deliveries) < 5:  # as a person presses "Redeliver"
        again = Delivery(provider, event, url, clock=wl.VirtualClock(), delivery_id=deliveries[0].delivery_id)
        deliveries.append(again.run())
    return deliveries


# -- the class folder -------------------------------------------------------------------


def test_tokens_and_secrets_live_only_in_private_files_and_survive_a_restart(tmp_path):
    folder = ClassFolder(tmp_path / "c", ["Ada", "Grace"])
    assert stat.S_IMODE(os.stat(folder.path).st_mode) == 0o700
    for name in ("admin-token", "roster.json"):
        assert stat.S_IMODE(os.stat(folder.path / name).st_mode) == 0o600
    tokens = [folder.admin, *(learner.token for learner in folder.learners)]
    assert len(set(tokens)) == 3 and all(len(token) >= MIN_TOKEN for token in tokens)
    assert all(learner.secret.startswith("whsec_") for learner in folder.learners)
    assert folder.learners[0].token not in repr(folder.learners[0]) and "whsec_" not in repr(folder.learners[0])
    again = ClassFolder(tmp_path / "c", ["Ada", "Linus"])  # a restart, one learner more
    assert again.admin == folder.admin
    assert again.learners[:2] == folder.learners and again.learners[2].name == "Linus"
    csv_file, html_file = again.write_handout("http://127.0.0.2:8000")
    assert {stat.S_IMODE(os.stat(f).st_mode) for f in (csv_file, html_file)} == {0o600}


def test_a_class_needs_learners_and_says_how(tmp_path):
    with pytest.raises(wl.UsageError, match="has nobody yet: start it with --students N"):
        ClassFolder(tmp_path / "empty")
    with pytest.raises(wl.UsageError, match="from 1 to 1000, got 0"):
        numbered(0)
    with pytest.raises(wl.UsageError, match="no control characters"):
        ClassFolder(tmp_path / "bad", ["Ada\nLovelace"])
    (tmp_path / "short").mkdir()
    (tmp_path / "short" / "admin-token").write_text("abc")
    with pytest.raises(wl.UsageError, match="at least 22 characters, got 3"):
        ClassFolder(tmp_path / "short", ["Ada"])


def test_the_handout_has_each_learners_bin_secret_and_page_and_escapes_names(tmp_path):
    names = ["<script>alert(1)</script>", "=HYPERLINK(\"http://evil.example\")", "Ada"]
    folder = ClassFolder(tmp_path / "c", names)
    csv_file, html_file = folder.write_handout("http://127.0.0.2:8000")
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    assert [row["name"] for row in rows] == [names[0], "'" + names[1], "Ada"]  # a formula is text to a spreadsheet
    for row, learner in zip(rows, folder.learners):
        assert row["bin_url"] == row["page_url"] == f"http://127.0.0.2:8000/b/{learner.token}/"
        assert row["signing_secret"] == learner.secret
    page = html_file.read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert all(learner.secret in page and learner.token in page for learner in folder.learners)


def test_the_lan_address_is_never_the_wildcard():
    assert lan_address("127.0.0.2") == "127.0.0.2"
    found = lan_address("0.0.0.0")
    assert found != "0.0.0.0" and re.fullmatch(r"\d+\.\d+\.\d+\.\d+", found)


def test_one_default_secret_verifies_every_endpoint_and_provider():
    secret = wl.StandardWebhooks().secrets[0]
    verifiers = Verifiers(default=secret)
    for provider in (wl.Stripe, wl.GitHub, wl.Shopify, wl.StandardWebhooks):
        signer = provider(secret)
        body, headers = signer.sign(signer.event(provider.event_types()[0]))
        assert verifiers.check(f"any-{provider.name}", provider.name, list(headers.items()), body)[0] is True
    assert verifiers.check("unsigned", None, [], b"{}")[:2] == (False, "missing_header")
    assert Verifiers().check("unsigned", None, [], b"{}") == (None, None, None)  # no default: nothing checked


# -- the server: many learners at once ---------------------------------------------------


def test_ten_learners_twenty_events_each_with_failing_bins_lose_nothing_and_mix_nothing(tmp_path):
    server = ClassServer(ClassFolder(tmp_path / "c", numbered(10)), host=LAN).start()
    learners = server.folder.learners
    failing = set(random.Random(7).sample(range(10), 1))  # 10% of bins fail first
    try:
        for index in failing:
            for provider in PROVIDERS:
                reply = requests.put(server.bin_url(learners[index]) + f"api/endpoints/{provider.name}",
                                     json={"status": 200, "fail_first": 2}, headers=CHANGE, timeout=10)  # fmt: skip
                assert reply.status_code == 200, reply.text

        def learner_sends(index):
            learner = learners[index]
            sent = []
            for n in range(20):
                provider = PROVIDERS[n % 3]
                url = server.bin_url(learner) + f"hooks/{provider.name}"
                sent.append(deliver(learner, url, provider, f"{learner.name}/{n}"))
            return sent

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(learner_sends, range(10)))
        for index, (learner, sent) in enumerate(zip(learners, results)):
            assert all(chain[-1].status == "delivered" for chain in sent)
            attempts = sum(len(d.log) for chain in sent for d in chain)
            events = server.bins[learner.token].store.list()
            assert len(events) == attempts  # every attempt stored, failures too
            assert attempts > 20 if index in failing else attempts == 20
            markers = {json.loads(e.body)["webhooklab_marker"] for e in events}
            assert markers == {f"{learner.name}/{n}" for n in range(20)}  # all of them, and only this learner's
            assert all(e.verified for e in events)  # signed with this learner's secret
            assert len({e.delivery_id for e in events}) == 20
        table = requests.get(server.dashboard_url + "api/class", timeout=10).json()
        assert table["events"] == sum(len(d.log) for sent in results for chain in sent for d in chain)
        failed_bin = table["learners"][min(failing)]
        assert failed_bin["duplicates"] == failed_bin["received"] - 20 > 0  # retries share a delivery id
    finally:
        server.close()


def test_a_restart_on_the_same_folder_keeps_tokens_secrets_and_events(tmp_path):
    server = ClassServer(ClassFolder(tmp_path / "c", numbered(2)), host=LAN).start()
    learner = server.folder.learners[1]
    deliver(learner, server.bin_url(learner) + "hooks/shop", wl.Stripe, "kept")
    server.close()
    again = ClassServer(ClassFolder(tmp_path / "c"), host=LAN).start()
    try:
        assert again.folder.learners[1] == learner
        events = requests.get(again.bin_url(learner) + "api/events", timeout=10).json()["events"]
        assert [e["verified"] for e in events] == [True]
    finally:
        again.close()


# -- isolation ---------------------------------------------------------------------------


def raw_get(server, path: str) -> tuple[int, str]:
    """A GET with the path exactly as written (requests would resolve the dot segments)."""
    connection = http.client.HTTPConnection(LAN, server.port, timeout=10)
    try:
        connection.request("GET", path)
        reply = connection.getresponse()
        return reply.status, reply.read().decode()
    finally:
        connection.close()


def test_unknown_addresses_answer_404_with_what_to_do(klass):
    a, b = klass.folder.learners[:2]
    cases = ["/", "/api/events", "/b/", f"/b/{b.token[:-1]}/api/events", f"/b/{b.name}/api/events",
             f"/teacher/{a.token}/api/class", f"/teacher/{klass.folder.admin[:-1]}/api/export.csv",
             f"/b/{a.token}/../{b.token}/api/events", f"/b/{a.token}/%2e%2e/{b.token}/api/events"]  # fmt: skip
    for path in cases:
        status, text = raw_get(klass, path)
        assert status == 404, path
        assert not [s for s in (b.token, b.secret, klass.folder.admin) if s in text and s not in path]
        assert "error" in json.loads(text)
    assert "use the bin URL on your handout" in raw_get(klass, "/api/events")[1]
    assert "check the URL on your handout" in raw_get(klass, f"/b/{b.token[:-1]}/")[1]


def test_a_learner_changes_their_own_bin_from_any_machine_but_only_with_the_header_and_origin(klass):
    a = klass.folder.learners[0]
    url = klass.bin_url(a) + "api/endpoints/shop"
    assert requests.put(url, json={"status": 202}, headers=CHANGE, timeout=10).json()["status"] == 202
    refused = requests.put(url, json={"status": 500}, timeout=10)
    assert refused.status_code == 403 and "X-Webhooklab" in refused.json()["error"]
    other = requests.put(url, json={"status": 500}, headers={**CHANGE, "Origin": "http://127.0.0.3:8000"}, timeout=10)
    assert other.status_code == 403 and "127.0.0.3" in other.json()["why"]
    assert requests.get(klass.bin_url(a) + "api/endpoints", timeout=10).json()["endpoints"][0]["status"] == 202


def test_a_replay_goes_only_to_the_bins_own_endpoints(klass):
    a, b = klass.folder.learners[:2]
    deliver(a, klass.bin_url(a) + "hooks/replayed", wl.Stripe, "replay me")
    (event,) = requests.get(klass.bin_url(a) + "api/events", params={"endpoint": "replayed"}, timeout=10).json()["events"]
    replay = klass.bin_url(a) + f"api/events/{event['id']}/replay"
    own = requests.post(replay, json={}, headers=CHANGE, timeout=10).json()
    assert own["status"] == 200 and own["url"].endswith(f"/b/{a.token}/hooks/replayed")
    elsewhere = ["http://127.0.0.1:9/hooks/x", klass.bin_url(b) + "hooks/x", klass.dashboard_url + "api/class",
                 klass.bin_url(a) + "hooks/../../" + b.token + "/hooks/x", klass.bin_url(a) + "api/events",
                 klass.bin_url(a) + "hooks/%2e%2e/x", "file:///etc/passwd"]  # fmt: skip
    for url in elsewhere:
        reply = requests.post(replay, json={"url": url}, headers=CHANGE, timeout=10)
        assert reply.status_code == 403, url
        assert "replays only to its own webhook endpoints" in reply.json()["error"]
    assert requests.get(klass.bin_url(b) + "api/events", timeout=10).json()["total"] == 0


def test_nothing_a_learner_reaches_holds_another_learners_token_or_secret(klass):
    a, b, c = klass.folder.learners
    for learner in (a, b):
        deliver(learner, klass.bin_url(learner) + "hooks/shop", wl.Shopify, learner.name)
    base = klass.bin_url(a)
    (first, *_) = requests.get(base + "api/events", timeout=10).json()["events"]
    paths = ["", "api", "api/events", f"api/events/{first['id']}", f"api/events/{first['id']}/inspect",
             "api/endpoints", "api/export.json", "api/export.csv", "api/export.har", "inspector/app.js"]  # fmt: skip
    seen = "".join(requests.get(base + path, timeout=10).text for path in paths)
    assert a.token in seen  # the learner's own address, in curl commands and exports
    for secret in (b.token, b.secret, c.token, c.secret, klass.folder.admin):
        assert secret not in seen
    # The owner sees the expected signature (Shopify's is base64) of the learner's own event, never hidden.
    assert "expected (base64)" in seen and "hidden" not in requests.get(base + f"api/events/{first['id']}/inspect").text


def test_a_challenge_report_is_stored_checked_and_shown_on_the_dashboard(klass):
    a = klass.folder.learners[2]
    url = klass.bin_url(a) + "api/challenge"
    report = {"score": 3, "total": 4, "scenarios": [{"scenario": "duplicate", "passed": False},
                                                     {"scenario": "retry", "passed": True}]}  # fmt: skip
    assert requests.post(url, json=report, headers=CHANGE, timeout=10).json() == {"stored": True}
    for wrong, message in (({"score": 5, "total": 4}, "cannot be more than total"),
                           ({"score": "3", "total": 4}, "score must be a whole number"),
                           ({**report, "scenarios": [{"scenario": "x"}]}, "each scenario is"),
                           ([1, 2], "the body is not JSON")):  # fmt: skip
        reply = requests.post(url, data=json.dumps(wrong) if wrong != [1, 2] else "[1, 2", headers=CHANGE, timeout=10)
        assert reply.status_code == 400 and message in reply.json()["error"]
    assert requests.post(url, json=report, timeout=10).status_code == 403  # no header: not the learner's own page
    row = next(r for r in requests.get(klass.dashboard_url + "api/class", timeout=10).json()["learners"]
               if r["name"] == a.name)  # fmt: skip
    assert row["challenge"]["score"] == 3 and row["challenge"]["failing"] == ["duplicate"]


def test_the_instructor_exports_everyone_with_a_learner_column(klass):
    for learner in klass.folder.learners:
        deliver(learner, klass.bin_url(learner) + "hooks/export", wl.GitHub, f"export {learner.name}")
    table = list(csv.DictReader(io.StringIO(requests.get(klass.dashboard_url + "api/export.csv", timeout=10).text)))
    assert {row["learner"] for row in table if row["endpoint"] == "export"} == {x.name for x in klass.folder.learners}
    events = requests.get(klass.dashboard_url + "api/export.json", timeout=10).json()
    assert all(e["learner"] in {x.name for x in klass.folder.learners} for e in events)
    page = requests.get(klass.dashboard_url, timeout=10)
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert requests.get(klass.dashboard_url + "api/export.xml", timeout=10).status_code == 404
    handout = requests.get(klass.dashboard_url + "handout.html", timeout=10)
    assert handout.status_code in (200, 404)  # written by the command; here, by nobody yet


def test_the_bin_url_without_its_slash_redirects_to_the_page(klass):
    a = klass.folder.learners[0]
    reply = requests.get(klass.bin_url(a).rstrip("/"), allow_redirects=False, timeout=10)
    assert reply.status_code == 308 and reply.headers["Location"] == f"/b/{a.token}/"


# -- the command -------------------------------------------------------------------------


def start_class(folder, *options):
    process = subprocess.Popen([sys.executable, "-m", "webhooklab", "classroom", "--host", LAN, "--port", "0",
                                "--dir", str(folder), *options], stdout=subprocess.PIPE, text=True)  # fmt: skip
    lines = []
    for line in process.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl-C"):
            break
    return process, "".join(lines)


def stop_class(process) -> str:
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    return out


def test_the_command_prints_where_everything_is_and_a_restart_keeps_it(tmp_path):
    process, printed = start_class(tmp_path / "c", "--students", "3")
    try:
        assert "for 3 learners" in printed and "0.0.0.0" not in printed
        dashboard = re.search(r"your dashboard\s+(\S+)", printed)[1]
        assert urlsplit(dashboard).hostname == LAN
        table = requests.get(dashboard + "api/class", timeout=10).json()
        assert [row["name"] for row in table["learners"]] == ["learner-01", "learner-02", "learner-03"]
        bin_url = next(csv.DictReader(io.StringIO((tmp_path / "c" / "handout.csv").read_text())))["bin_url"]
        assert bin_url.startswith(dashboard.split("/teacher/")[0] + "/b/")
        deliver(ClassFolder(tmp_path / "c").learners[0], bin_url + "hooks/shop", wl.Stripe, "cli")
        assert requests.get(dashboard + "handout.html", timeout=10).text.count('class="card"') == 3
    finally:
        assert "stopped; 1 event(s) kept" in stop_class(process)
    process, printed = start_class(tmp_path / "c")
    try:
        assert re.search(r"your dashboard\s+(\S+)", printed)[1].split("/teacher/")[1] == dashboard.split("/teacher/")[1]
    finally:
        stop_class(process)


def test_the_command_takes_no_secret_and_explains_a_bad_roster(tmp_path):
    usage = subprocess.run([sys.executable, "-m", "webhooklab", "classroom", "--help"], capture_output=True, text=True)
    assert "--students" in usage.stdout and not re.search(r"--(secret|token|admin)", usage.stdout)
    (tmp_path / "names.txt").write_text("# nobody\n\n")
    failed = subprocess.run([sys.executable, "-m", "webhooklab", "classroom", "--roster", str(tmp_path / "names.txt"),
                             "--dir", str(tmp_path / "c"), "--host", LAN, "--port", "0"],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert failed.returncode == 1 and "names nobody: write one learner's name a line" in failed.stderr


def test_learners_may_reach_the_class_by_a_name_the_instructor_allows(tmp_path):
    """A name such as teacher.local is refused (DNS rebinding looks the same) unless the instructor allows it."""
    folder = ClassFolder(tmp_path / "c", numbered(1))
    token = folder.learners[0].token
    for allowed, expected in (((), 403), (("teacher.local",), 200)):
        with ClassServer(folder, host=LAN, allowed_hosts=allowed) as server:
            host = f"teacher.local:{server.port}"
            page = requests.get(f"{server.base_url}/b/{token}/api/events", headers={"Host": host}, timeout=5)
            board = requests.get(f"{server.base_url}/teacher/{folder.admin}/api/class", headers={"Host": host}, timeout=5)
            assert (page.status_code, board.status_code) == (expected, expected), page.text


def test_the_class_export_stays_json_when_a_learner_receives_nan(klass):
    learner = klass.folder.learners[0]
    requests.post(klass.bin_url(learner) + "hooks/floats", data=b'{"amount": NaN}', timeout=10)
    reply = requests.get(klass.dashboard_url + "api/export.json", timeout=10)
    [event] = [e for e in json.loads(reply.text, parse_constant=refuse_constant) if e["endpoint"] == "floats"]
    assert (event["json"], event["body_text"]) == (None, '{"amount": NaN}')


def refuse_constant(constant):
    raise ValueError(f"{constant} is not JSON")
