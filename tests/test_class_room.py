"""The teacher's side of a class server, over real HTTP and real SQLite: verdicts, progress and the gradebook,
running the room (reset, add, rotate), readable tokens and the handout's QR codes.

Every address is loopback: the class server listens on 127.0.0.2, which plays the classroom's LAN.
"""

import base64
import csv
import io
import json
import math
import os
import re
import stat
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests

import webhooklab as wl
from webhooklab._classroom import ClassFolder, ClassServer, numbered
from webhooklab._classroom.folder import ALPHABET, MIN_TOKEN, new_token
from webhooklab._classroom.gradebook import STUCK_AFTER
from webhooklab._classroom.progress import MAX_EXERCISES
from webhooklab.exercises import catalogue

LAN = "127.0.0.2"
CHANGE = {"X-Webhooklab": "1"}
VERDICT = {"exercise": "ch03.check_verify_github", "notebook": "03.00-security", "passed": True}


@pytest.fixture
def room(tmp_path):
    """A class server of three for one test: the room's changes are what these tests make."""
    server = ClassServer(ClassFolder(tmp_path / "c", numbered(3)), host=LAN).start()
    server.folder.write_handout(server.class_url)
    yield server
    server.close()


def verdict(server, learner, **fields):
    return requests.post(server.bin_url(learner) + "api/verdict", data=json.dumps({**VERDICT, **fields}),
                         headers=CHANGE, timeout=10)  # fmt: skip


def progress_of(server, name: str) -> dict:
    rows = requests.get(server.dashboard_url + "api/progress", timeout=10).json()["learners"]
    return next(row for row in rows if row["name"] == name)


def signed(learner, url: str):
    stripe = wl.Stripe(learner.secret)
    return stripe.send(stripe.event("payment_intent.succeeded"), to=url)


def private(path) -> bool:
    return stat.S_IMODE(os.stat(path).st_mode) == 0o600


# -- verdicts ------------------------------------------------------------------------------------


def test_a_verdict_is_stored_latest_first_passed_kept_and_runs_counted(room):
    a = room.folder.learners[0]
    assert verdict(room, a, passed=False).json() == {"stored": True}
    assert verdict(room, a, passed=True).status_code == 200
    assert verdict(room, a, passed=False).status_code == 200  # a later run fails: the latest says so
    (row,) = room.progress.verdicts()[a.name].values()
    assert (row["passed"], row["runs"], row["notebook"]) == (False, 3, "03.00-security")
    assert row["first_passed"] is not None and row["first_passed"] == row["last_passed"]
    first_at, first_passed, at = (datetime.fromisoformat(row[key]) for key in ("first_at", "first_passed", "at"))
    assert first_at <= first_passed <= at
    shown = progress_of(room, a.name)
    assert shown["failing"] == ["ch03.check_verify_github"] and shown["last_success"] == row["last_passed"]
    assert shown["notebook"] == "03.00-security" and shown["exercises"]["ch03.check_verify_github"]["runs"] == 3
    assert progress_of(room, room.folder.learners[1].name)["exercises"] == {}  # nobody else's


@pytest.mark.parametrize(("body", "says"), [
    ({**VERDICT, "passed": "yes"}, "passed must be true or false, got 'yes'"),
    ({**VERDICT, "exercise": "=cmd|' /C calc'!A0"}, "exercise must be a check's name"),
    ({**VERDICT, "exercise": "ch03.check_x.y"}, "one dot"),
    ({**VERDICT, "notebook": "../../etc/passwd"}, "notebook must be a notebook's name"),
    ({**VERDICT, "code": "def verify(): ..."}, r"and nothing else \(never code or values\), got \['code'\]"),
    ({"exercise": "ch03.check_verify_github"}, "notebook must be"),
    ([VERDICT], "a verdict must be a JSON object, got \\[\\{"),
    ("{not json", "the body is not JSON"),
    ({**VERDICT, "notebook": "x" * 2000}, "a verdict is at most 1 KB of JSON, got 2"),
])  # fmt: skip
def test_a_wrong_verdict_is_refused_saying_what_was_expected_and_what_arrived(room, body, says):
    a = room.folder.learners[0]
    data = body if isinstance(body, str) else json.dumps(body)
    reply = requests.post(room.bin_url(a) + "api/verdict", data=data, headers=CHANGE, timeout=10)
    assert reply.status_code == 400
    answer = reply.json()
    assert re.search(says, answer["error"]), answer["error"]
    assert answer["arrived"] == data[:200] and "likely cause" in answer["hint"]
    assert room.progress.verdicts() == {}


def test_a_verdict_needs_the_header_and_a_learner_names_a_bounded_number_of_exercises(room):
    a = room.folder.learners[0]
    refused = requests.post(room.bin_url(a) + "api/verdict", json=VERDICT, timeout=10)
    assert refused.status_code == 403 and "X-Webhooklab" in refused.json()["error"]
    for n in range(MAX_EXERCISES):
        assert verdict(room, a, exercise=f"ch99.check_{n}").status_code == 200
    over = verdict(room, a, exercise="ch99.check_one_too_many")
    assert over.status_code == 507 and f"at most {MAX_EXERCISES} exercises" in over.json()["error"]
    assert verdict(room, a, exercise="ch99.check_0", passed=False).status_code == 200  # a known one still counts
    assert len(room.progress.verdicts()[a.name]) == MAX_EXERCISES


def test_last_activity_counts_events_verdicts_reports_and_changes_to_the_bin(room):
    a, b, c = room.folder.learners
    assert [progress_of(room, x.name)["last_activity"] for x in (a, b, c)] == [None, None, None]
    assert signed(a, room.bin_url(a) + "hooks/shop").ok
    assert requests.put(room.bin_url(b) + "api/endpoints/shop", json={"status": 500}, headers=CHANGE,
                        timeout=10).ok  # fmt: skip
    report = {"score": 1, "total": 2, "scenarios": []}
    assert requests.post(room.bin_url(c) + "api/challenge", json=report, headers=CHANGE, timeout=10).ok
    rows = {x.name: progress_of(room, x.name) for x in (a, b, c)}
    assert all(row["last_activity"] and row["since_activity"] is not None for row in rows.values())
    table = requests.get(room.dashboard_url + "api/class", timeout=10).json()["learners"]
    assert [row["last_activity"] is not None for row in table] == [True, True, True]  # the first table says so too
    assert rows[c.name]["notebook"] == "06.00-workshop-challenge"  # the challenge's notebook, by its report
    assert rows[c.name]["challenge"]["score"] == 1 and rows[b.name]["challenge"] is None
    assert rows[a.name]["last_success"] is None and rows[a.name]["since_success"] is None


def test_a_learner_with_a_check_failing_and_no_success_for_ten_minutes_is_stuck(room):
    a, b, _ = room.folder.learners
    assert verdict(room, a, passed=False).ok and verdict(room, b, passed=False).ok
    assert verdict(room, b, exercise="ch01.check_event_name", notebook="01.00-what-is-a-webhook").ok
    assert not progress_of(room, a.name)["stuck"]
    then = (datetime.now(timezone.utc) - timedelta(seconds=STUCK_AFTER + 60)).isoformat()
    with room.progress._lock:  # as if the verdicts had come eleven minutes ago
        room.progress._db.execute("UPDATE verdicts SET at = ?, first_at = ?, last_passed = "
                                  "CASE WHEN last_passed IS NULL THEN NULL ELSE ? END", (then, then, then))  # fmt: skip
    never, long_ago = progress_of(room, a.name), progress_of(room, b.name)
    assert never["stuck"] and never["since_success"] is None
    assert long_ago["stuck"] and long_ago["since_success"] >= STUCK_AFTER  # passed one, long ago
    assert long_ago["notebook"] == "03.00-security"  # the furthest in the course, not the latest


# -- the gradebook ---------------------------------------------------------------------------------


def test_the_gradebook_has_a_row_per_learner_a_column_per_exercise_and_inert_cells(tmp_path):
    names = ["=HYPERLINK(\"http://evil.example\")", "Ada", "@Grace"]
    server = ClassServer(ClassFolder(tmp_path / "c", names), host=LAN).start()
    try:
        formula, ada, grace = server.folder.learners
        assert verdict(server, ada).ok and verdict(server, ada, exercise="ch01.check_order_sent", passed=False,
                                                  notebook="01.00-what-is-a-webhook").ok  # fmt: skip
        assert verdict(server, grace, exercise="ch99.check_extra", notebook="99.00-new").ok
        report = {"score": 3, "total": 4, "scenarios": []}
        assert requests.post(server.bin_url(ada) + "api/challenge", json=report, headers=CHANGE, timeout=10).ok
        reply = requests.get(server.dashboard_url + "api/gradebook.csv", timeout=10)
        assert reply.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in reply.headers["Content-Disposition"]
        table = list(csv.reader(io.StringIO(reply.text)))
        exercises = [name for name, _ in catalogue()]
        assert table[0] == ["learner", *exercises, "ch99.check_extra", "challenge_score", "challenge_total",
                            "last_activity"]  # fmt: skip
        rows = {row[0]: dict(zip(table[0], row)) for row in table[1:]}
        assert list(rows) == ["'" + names[0], "Ada", "'@Grace"]  # one row each, a formula is text
        assert rows["Ada"]["ch03.check_verify_github"] == "pass" and rows["Ada"]["ch01.check_order_sent"] == "fail"
        assert rows["Ada"]["ch02.check_new_event_ids"] == "" and rows["'@Grace"]["ch99.check_extra"] == "pass"
        assert (rows["Ada"]["challenge_score"], rows["Ada"]["challenge_total"]) == ("3", "4")
        assert rows["'" + names[0]]["challenge_score"] == "" and rows["'" + names[0]]["last_activity"] == ""
        assert datetime.fromisoformat(rows["Ada"]["last_activity"])
        assert formula.token not in reply.text and formula.secret not in reply.text
    finally:
        server.close()


# -- running the room ------------------------------------------------------------------------------


def test_reset_empties_a_bin_and_keeps_its_url(room):
    a, b, _ = room.folder.learners
    for learner in (a, b):
        assert signed(learner, room.bin_url(learner) + "hooks/shop").ok
    assert requests.put(room.bin_url(a) + "api/endpoints/shop", json={"status": 500}, headers=CHANGE, timeout=10).ok
    refused = requests.post(room.dashboard_url + "api/learners/reset", json={"name": a.name}, timeout=10)
    assert refused.status_code == 403  # a change: the dashboard's page sends the header
    answer = requests.post(room.dashboard_url + "api/learners/reset", json={"name": a.name.upper()}, headers=CHANGE,
                           timeout=10).json()  # fmt: skip
    assert answer["name"] == a.name and answer["bin_url"] == room.bin_url(a) and a.secret not in json.dumps(answer)
    assert requests.get(room.bin_url(a) + "api/events", timeout=10).json()["total"] == 0
    assert requests.get(room.bin_url(b) + "api/events", timeout=10).json()["total"] == 1  # nobody else's
    assert requests.post(room.bin_url(a) + "hooks/shop", json={}, timeout=10).status_code == 200  # a plain 200 again
    assert room.limits.report(a.token)["endpoints"] == 1


def test_add_gives_a_new_learner_a_bin_while_the_class_runs(room):
    reply = requests.post(room.dashboard_url + "api/learners", json={"name": "<b>Linus</b>"}, headers=CHANGE,
                          timeout=10)  # fmt: skip
    assert reply.status_code == 201, reply.text
    linus = room.folder.find("<b>Linus</b>")
    assert reply.json()["bin_url"] == room.bin_url(linus) and linus.secret not in reply.text
    assert signed(linus, room.bin_url(linus) + "hooks/shop").ok
    events = requests.get(room.bin_url(linus) + "api/events", timeout=10).json()["events"]
    assert [e["verified"] for e in events] == [True]
    roster = json.loads(room.folder.roster_file.read_text())["learners"]
    assert [x["name"] for x in roster][-1] == "<b>Linus</b>" and roster[-1]["token"] == linus.token
    handout = (room.folder.path / "handout.html").read_text()
    assert room.bin_url(linus) in handout and "&lt;b&gt;Linus&lt;/b&gt;" in handout and "<b>Linus" not in handout
    assert room.bin_url(linus) in (room.folder.path / "handout.csv").read_text()
    for file in ("roster.json", "handout.html", "handout.csv", "class.db", f"bins/{linus.file}.db"):
        assert private(room.folder.path / file), file
    assert room.limits.report(linus.token)["stored_bytes"] > 0
    names = [row["name"] for row in requests.get(room.dashboard_url + "api/class", timeout=10).json()["learners"]]
    assert names[-1] == "<b>Linus</b>" and len(names) == 4
    twice = requests.post(room.dashboard_url + "api/learners", json={"name": "<B>linus</B>"}, headers=CHANGE,
                          timeout=10)  # fmt: skip
    assert twice.status_code == 400 and "in the class already" in twice.json()["error"]
    blank = requests.post(room.dashboard_url + "api/learners", json={"name": 5}, headers=CHANGE, timeout=10)
    assert blank.status_code == 400 and 'the body is {"name"' in blank.json()["error"]
    assert "got {'name': 5}" in blank.json()["error"]
    again = ClassFolder(room.folder.path)  # a restart reads the learner added
    assert again.find("<b>Linus</b>") == linus


def test_rotate_answers_404_on_the_old_url_at_once_and_keeps_the_bins_events(room):
    a, b, _ = room.folder.learners
    assert signed(a, room.bin_url(a) + "hooks/shop").ok
    assert verdict(room, a).ok
    old_url = room.bin_url(a)
    answer = requests.post(room.dashboard_url + "api/learners/rotate", json={"name": a.name}, headers=CHANGE,
                           timeout=10).json()  # fmt: skip
    new = room.folder.find(a.name)
    assert new.token != a.token and new.secret != a.secret and new.file == a.file
    assert answer["bin_url"] == room.bin_url(new) and answer["secret"].endswith(new.secret[-4:])
    assert new.secret not in json.dumps(answer)
    for path in ("", "api/events", "hooks/shop"):
        gone = requests.get(old_url + path, timeout=10)
        assert gone.status_code == 404 and "check the URL on your handout" in gone.json()["error"]
    events = requests.get(room.bin_url(new) + "api/events", timeout=10).json()["events"]
    assert [e["verified"] for e in events] == [True]  # kept, with the verdict it had
    assert signed(new, room.bin_url(new) + "hooks/shop").ok and signed(a, room.bin_url(new) + "hooks/shop").ok
    latest = requests.get(room.bin_url(new) + "api/events", timeout=10).json()["events"]
    assert [e["verified"] for e in latest[-2:]] == [True, False]  # the old secret signs nothing any more
    assert progress_of(room, a.name)["passed"] == 1  # verdicts go with the name
    roster = json.loads(room.folder.roster_file.read_text())["learners"]
    assert roster[0] == {"name": a.name, "token": new.token, "secret": new.secret, "file": a.file}
    handout = (room.folder.path / "handout.html").read_text()
    assert room.bin_url(new) in handout and a.token not in handout and a.secret not in handout
    assert all(private(room.folder.path / f) for f in ("roster.json", "handout.html", "handout.csv"))
    names = [row["name"] for row in requests.get(room.dashboard_url + "api/class", timeout=10).json()["learners"]]
    assert names == [x.name for x in room.folder.learners]  # the learner keeps their place
    assert requests.get(room.bin_url(b) + "api/events", timeout=10).ok
    nobody = requests.post(room.dashboard_url + "api/learners/rotate", json={"name": "Nobody"}, headers=CHANGE,
                           timeout=10)  # fmt: skip
    assert nobody.status_code == 400 and "no learner is named 'Nobody'" in nobody.json()["error"]


def test_the_room_changes_while_every_bin_is_busy(room):
    """16 worker threads read the bins on every request: additions and rotations meanwhile lose no request."""
    a, b, _ = room.folder.learners

    def busy(n):
        if n % 4 == 3:  # the dashboard reads every bin meanwhile
            return requests.get(room.dashboard_url + ("api/class", "api/progress")[n % 2], timeout=10).status_code
        learner = (a, b)[n % 2]
        return signed(learner, room.bin_url(learner) + "hooks/busy").status

    with ThreadPoolExecutor(8) as pool:
        sending = pool.map(busy, range(160))
        for n in range(5):
            room.add(f"late-{n}")
            room.rotate("learner-03")
            room.reset("late-0")
        statuses = list(sending)
    assert statuses == [200] * 160
    assert sum(room.bins[x.token].store.count("busy") for x in (a, b)) == 120
    assert len(room.bins) == 8 == len(room.limits.uses) == len(room.folder.learners)
    assert set(room.bins) == {x.token for x in room.folder.learners} == set(room.limits.uses)


# -- tokens ----------------------------------------------------------------------------------------


def test_new_tokens_have_no_look_alike_characters_and_at_least_128_random_bits():
    assert not set("0Oo1lIi") & set(ALPHABET) and len(set(ALPHABET)) == len(ALPHABET) == 31
    tokens = [new_token() for _ in range(2000)]
    assert all(re.fullmatch(r"[23456789abcdefghjkmnpqrstuvwxyz]{4}(-[23456789abcdefghjkmnpqrstuvwxyz]{4}){6}", t)
               for t in tokens)  # fmt: skip
    assert len(set(tokens)) == len(tokens) and len(tokens[0].replace("-", "")) * math.log2(31) >= 128
    used = {c for t in tokens for c in t.replace("-", "")}
    assert used == set(ALPHABET)  # every character is drawn


def test_a_roster_with_older_tokens_keeps_working(tmp_path):
    folder = ClassFolder(tmp_path / "c", ["Ada", "Grace"])
    old = "V3JvbmctdG9rZW4tb24tdGhlLWhhbmRvdXQw"  # the URL-safe base64 a roster held before
    data = json.loads(folder.roster_file.read_text())
    data["learners"][0]["token"] = old
    folder.roster_file.write_text(json.dumps(data))
    server = ClassServer(ClassFolder(tmp_path / "c"), host=LAN).start()
    try:
        ada, grace = server.folder.learners
        assert ada.token == old and len(old) >= MIN_TOKEN and set(grace.token) <= set(ALPHABET + "-")
        assert requests.get(server.bin_url(ada) + "api/events", timeout=10).ok
        server.rotate("Ada")
        assert set(server.folder.find("Ada").token) <= set(ALPHABET + "-")  # a new one is readable
    finally:
        server.close()


# -- the handout -----------------------------------------------------------------------------------


def qr_codes(page: str) -> list[str]:
    """What each QR code of the handout says, read by ZXing from its PNG."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is part of the test extra")
    from PIL import Image

    found = []
    for data in re.findall(r'<img class="qr" src="data:image/png;base64,([^"]+)"', page):
        (code,) = zxingcpp.read_barcodes(Image.open(io.BytesIO(base64.b64decode(data))))
        assert code.format == zxingcpp.BarcodeFormat.QRCode
        found.append(code.text)
    return found


def test_the_handout_joins_in_one_line_and_its_qr_codes_are_the_bin_urls(tmp_path):
    names = ["<script>alert(1)</script>", 'Ada "the first"', "Grace"]
    folder = ClassFolder(tmp_path / "c", names)
    _, html_file = folder.write_handout("http://192.168.1.20:8000")
    page = html_file.read_text()
    urls = [f"http://192.168.1.20:8000/b/{learner.token}/" for learner in folder.learners]
    assert qr_codes(page) == urls
    for url in urls:
        assert page.count(f'wl.join_class("{url}")') == 1
    assert "Receiver.attach" not in page and "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "Ada &quot;the first&quot;" in page
    assert 'alt="QR code of the bin URL of Ada &quot;the first&quot;"' in page


def test_the_dashboard_serves_the_handout_with_its_qr_codes_allowed_and_nothing_else(room):
    reply = requests.get(room.dashboard_url + "handout.html", timeout=10)
    policy = reply.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "img-src data:" in policy and "script-src" not in policy
    assert qr_codes(reply.text) == [room.bin_url(learner) for learner in room.folder.learners]
