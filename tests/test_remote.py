"""A bin on a class server, used from a notebook: the same calls as a local receiver, over real HTTP.

The class server is webhooklab's own (_classroom.ClassServer) on 127.0.0.2, a loopback address that plays
the classroom's LAN; the learner's notebook attaches to a bin with the URL of its handout.
"""

import inspect
import os
import shutil
import socket
import stat
import threading
import time
from pathlib import Path

import nbformat
import pytest
import requests
from nbclient import NotebookClient

import webhooklab as wl
from webhooklab._receiving.joining import CLASS_FILE
from webhooklab._receiving.remote import FIRST_PAUSE, MAX_PAUSE, RemoteReceiver
from webhooklab.grader._report import Report, row

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
WRONG = "Tm8tc3VjaC1iaW4taW4tdGhpcy1jbGFzcy0w"  # a token of the right shape that no learner has


@pytest.fixture
def rx(classroom):
    """The learner's bin, attached: it sees only what arrives from now on; every endpoint answers a plain 200."""
    return classroom.attach()


def post(url, **kwargs):
    reply = requests.post(url, timeout=5, **kwargs)
    return reply.status_code


def test_attach_gives_the_bins_urls_and_captures_into_that_bin_only(rx, classroom):
    assert isinstance(rx, RemoteReceiver) and rx.start() is rx and rx.running
    assert rx.url("shop") == f"{classroom.base_url}/b/{classroom.learner.token}/hooks/shop"
    assert rx.base_url + "/" == rx.page_url() == classroom.bin_url()
    before = classroom.server.bins[classroom.other.token].store.count()
    assert post(rx.url("shop"), json={"order": 1}) == 200
    assert classroom.store.get(-1).json == {"order": 1}
    assert classroom.server.bins[classroom.other.token].store.count() == before
    rx.stop()  # the class server is the instructor's: it keeps serving
    assert post(rx.url("shop"), json={"order": 2}) == 200


def test_the_remote_calls_take_the_same_arguments_as_a_local_receivers():
    for name in ("url", "respond", "wait_for", "events", "event", "inspector", "page_url", "start", "stop", "clear"):
        local = inspect.signature(getattr(wl.Receiver, name)).parameters
        remote = inspect.signature(getattr(RemoteReceiver, name)).parameters
        assert list(remote) == list(local), name
        assert [p.default for p in remote.values()] == [p.default for p in local.values()], name


def test_events_is_the_same_table_as_a_local_receivers(rx, classroom):
    sends = [("shop", {"order": 1}), ("github", {"zen": "Keep it logically awesome."}), ("shop", {"order": 2})]
    secret = classroom.learner.secret  # the bin checks every endpoint with the learner's secret
    with wl.Receiver(secrets={"shop": secret, "github": secret}) as local:
        for endpoint, body in sends:
            assert post(local.url(endpoint), json=body) == post(rx.url(endpoint), json=body) == 200
        local.wait_for(3)
        expected, table = local.events(), rx.events()
    assert list(table.columns) == list(expected.columns) and table.index.name == expected.index.name
    assert dict(table.dtypes) == dict(expected.dtypes) and table.index.dtype == expected.index.dtype
    same = ["endpoint", "method", "status", "size", "preview", "verified", "reason", "duplicate_of"]
    assert table[same].reset_index(drop=True).equals(expected[same].reset_index(drop=True))
    assert list(rx.events("shop")["preview"]) == ['{"order": 1}', '{"order": 2}']


def test_a_new_attachment_starts_empty_and_history_shows_what_the_bin_holds(classroom):
    first = wl.Receiver.attach(classroom.bin_url())
    assert post(first.url("old"), data=b"before") == 200
    second = wl.Receiver.attach(classroom.bin_url())
    assert second.events().empty and len(first.events("old")) == 1
    assert len(wl.Receiver.attach(classroom.bin_url(), history=True).events()) == classroom.store.count()
    old = first.event(-1)
    assert second.event(old.id) == old  # an id finds any event of the bin
    first.clear()
    assert first.events().empty


def test_event_is_the_stored_event_byte_for_byte(rx, classroom):
    body = b"\xff\x00 not UTF-8 \x80"
    assert post(rx.url("raw") + "?page=2", data=body, headers={"Content-Type": "application/octet-stream"}) == 200
    event = rx.event(-1)
    assert isinstance(event, wl.Event) and event == classroom.store.get(-1)
    assert event.body == body and event.text is None and event.query == "page=2"
    assert event.received_at.tzinfo is not None and event.path == "/hooks/raw"


def test_event_counts_back_from_the_newest_and_says_when_there_is_none(rx):
    with pytest.raises(wl.EventNotFound, match="0 event"):
        rx.event(-1)
    for n in range(3):
        post(rx.url("count"), json={"n": n})
    assert [rx.event(i).json["n"] for i in (-1, -2, -3)] == [2, 1, 0]
    with pytest.raises(wl.EventNotFound, match="3 event"):
        rx.event(-4)
    missing = r"GET http://127\.0\.0\.2:\d+/b/…[\w-]{4}/api/events/999999 answered 404: 'no event with id 999999"
    with pytest.raises(wl.EventNotFound, match=missing):
        rx.event(999999)
    with pytest.raises(wl.UsageError, match="an event id is a whole number"):
        rx.event("1")


def test_wait_for_returns_the_matching_events_as_soon_as_they_arrive(rx, classroom):
    asked_before_arrival = []

    def later():
        time.sleep(0.4)
        post(rx.url("other"), json={"not": "this one"})
        post(rx.url("orders"), json={"order": 7})
        asked_before_arrival.append(classroom.requests)

    sender = threading.Thread(target=later)
    started = time.monotonic()
    sender.start()
    arrived = rx.wait_for(1, endpoint="orders", timeout=30)
    took, asked = time.monotonic() - started, classroom.requests
    sender.join()
    assert [event.json for event in arrived] == [{"order": 7}]
    assert took >= 0.4  # it waited for the event
    # Counted in requests, not seconds: once the event is stored, the next look finds it and one more request
    # fetches it. However loaded the machine, no more.
    assert asked - asked_before_arrival[0] <= 2
    assert [e.endpoint for e in rx.wait_for(2)] == ["other", "orders"]  # no endpoint: every event since attaching
    assert rx.wait_for(0, endpoint="nothing-here") == []


def test_wait_for_polls_without_hammering_the_class_server(rx, classroom, monkeypatch):
    pauses, sleep, waiter = [], time.sleep, threading.get_ident()

    def paused(seconds):
        if threading.get_ident() == waiter:
            pauses.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(time, "sleep", paused)
    before = classroom.requests
    with pytest.raises(wl.WaitTimeout):
        rx.wait_for(1, endpoint="quiet", timeout=1.5)
    asked = classroom.requests - before
    assert asked == len(pauses) + 1  # one look, then one after each pause
    # Pauses of 0.01 s doubling up to MAX_PAUSE, the last cut short by the timeout: never longer, never shorter.
    growing = [min(FIRST_PAUSE * 2**i, MAX_PAUSE) for i in range(len(pauses))]
    assert pauses[:-1] == pytest.approx(growing[:-1]) and 0 < pauses[-1] <= growing[-1] + 1e-9, pauses
    assert asked <= 1.5 / MAX_PAUSE + 6, asked


def test_a_timeout_names_the_endpoint_and_masks_the_token(rx, classroom):
    with pytest.raises(wl.WaitTimeout, match=r"waited 0.2 s for 2 event\(s\) at http://127\.0\.0\.2:\d+/b/…") as caught:
        rx.wait_for(2, endpoint="late", timeout=0.2)
    message = str(caught.value)
    assert classroom.learner.token not in message and classroom.learner.token[-4:] in message and "but 0 arrived" in message
    with pytest.raises(wl.UsageError, match="n cannot be negative"):
        rx.wait_for(-1)


def test_respond_changes_how_the_bins_endpoint_answers(rx):
    rx.respond("flaky", status=503)
    assert post(rx.url("flaky"), json={}) == 503
    rx.respond("flaky", fail_first=2)
    assert [post(rx.url("flaky"), json={}) for _ in range(3)] == [500, 500, 200]
    rx.respond("slow", delay=0.3)
    started = time.monotonic()
    assert post(rx.url("slow"), json={}) == 200 and time.monotonic() - started >= 0.3
    rx.respond("slow")
    with pytest.raises(wl.UsageError, match="status must be an HTTP status code from 100 to 599"):
        rx.respond("flaky", status=99)
    with pytest.raises(wl.UsageError, match="body= and headers= work with a receiver on your machine"):
        rx.respond("flaky", body="ok")
    assert post(rx.url("flaky"), json={}) == 200  # a refused change changed nothing


def test_a_wrong_token_says_the_bin_does_not_exist_and_never_shows_the_token(classroom):
    wrong = classroom.bin_url(WRONG)
    unknown = "this bin does not exist on the class server: check the URL on your handout"
    with pytest.raises(wl.ReceiverError, match=unknown) as caught:
        wl.Receiver.attach(wrong)
    message = str(caught.value)
    assert WRONG not in message and WRONG[-4:] in message
    assert classroom.base_url in message and "no bin has this address" in message


def test_a_class_server_that_is_not_there_is_named(classroom):
    with socket.socket() as probe:
        probe.bind(("127.0.0.2", 0))
        port = probe.getsockname()[1]
    with pytest.raises(wl.ReceiverError, match=rf"cannot reach the class server at http://127\.0\.0\.2:{port}\b"):
        wl.Receiver.attach(f"http://127.0.0.2:{port}/b/{classroom.learner.token}/")


@pytest.mark.parametrize("url", ["127.0.0.2:8000/b/x/", "http://127.0.0.2:8000/hooks/shop", "", 42])
def test_a_url_that_is_not_a_bin_url_is_a_usage_error(url):
    with pytest.raises(wl.UsageError, match="a bin URL"):
        wl.Receiver.attach(url)


def test_reprs_show_the_host_and_the_tokens_last_four_characters_only(rx, classroom):
    shown = [repr(rx), repr(rx.inspector())]
    for text in shown:
        assert classroom.learner.token not in text and f"{classroom.base_url}/b/…{classroom.learner.token[-4:]}/" in text
    page = rx.inspector()._repr_html_()
    assert f'href="{rx.page_url()}"' in page  # the link itself works
    assert requests.get(rx.page_url(), timeout=5).status_code == 200


def test_handlers_run_only_in_a_receiver_of_your_own(rx):
    assert rx.errors == []
    with pytest.raises(wl.ReceiverError, match="cannot run code from your notebook"):
        rx.on("*")


def test_join_class_is_the_one_setting_workshop_receiver_reads(classroom, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    local = wl.workshop_receiver()
    assert isinstance(local, wl.Receiver) and local.running
    local.close()
    wl.join_class(classroom.bin_url())
    file = tmp_path / CLASS_FILE
    assert file.read_text().strip() == classroom.bin_url()
    assert stat.S_IMODE(os.stat(file).st_mode) == 0o600
    printed = capsys.readouterr().out
    assert classroom.learner.token not in printed and classroom.learner.token[-4:] in printed
    joined = wl.workshop_receiver()  # a receiver in this kernel, reached at the bin's URL through the relay
    assert isinstance(joined, wl.Receiver) and joined.url("x") == classroom.bin_url() + "hooks/x"
    joined.close()  # the relay says goodbye: the bin answers by its own rules again
    with pytest.raises(wl.ReceiverError, match="this bin does not exist"):
        wl.join_class(classroom.bin_url("V3JvbmctdG9rZW4tb24tdGhlLWhhbmRvdXQw"))
    assert file.read_text().strip() == classroom.bin_url()  # a typo does not replace the bin that works
    wl.join_class(None)
    assert not file.exists() and "No class server" in capsys.readouterr().out
    wl.join_class(None)  # harmless when there is nothing to forget
    again = wl.workshop_receiver()
    assert isinstance(again, wl.Receiver) and again.running
    again.close()


def test_a_report_is_submitted_to_the_learners_bin_and_the_class_server_keeps_it(rx, classroom, tmp_path, monkeypatch,
                                                                                 capsys):  # fmt: skip
    report = Report([row("valid payment", True, "200", ""), row("replayed", False, "ran twice", "dedupe")], "handle")
    report.submit(rx)
    latest = classroom.server.challenges.latest()
    assert {key: latest[classroom.learner.name][key] for key in ("score", "total", "failing")} == \
        {"score": 1, "total": 2, "failing": ["replayed"]}  # fmt: skip
    printed = capsys.readouterr().out
    assert "Submitted 1/2" in printed and classroom.learner.token not in printed
    monkeypatch.chdir(tmp_path)
    assert report.submit() is None  # no class: a message, not an exception
    assert "Not submitted (1/2 stays on this machine): there is no class to submit to" in capsys.readouterr().out
    wl.join_class(classroom.bin_url(classroom.other.token))
    Report([row("valid payment", True, "200", "")], None).submit()  # the bin this folder joined
    assert classroom.server.challenges.latest()[classroom.other.name]["score"] == 1
    with wl.Receiver() as local, pytest.raises(wl.UsageError, match="submitted to your bin on a class server"):
        report.submit(local)
    refused = Report([row("x" * 300, True, "", "")], None)
    said = r"POST http://127\.0\.0\.2:\d+/b/…[\w-]{4}/api/challenge answered 400: 'each scenario"
    with pytest.raises(wl.ReceiverError, match=said):
        refused.submit(rx)


def test_a_guided_notebook_runs_attached_to_a_class_server(classroom, tmp_path, monkeypatch):
    """02 Push versus poll, with the class joined in its folder: its receiver is reached at the learner's bin."""
    workshop = tmp_path / "workshop"
    shutil.copytree(NOTEBOOKS, workshop)
    monkeypatch.chdir(workshop)
    wl.join_class(classroom.bin_url())
    notebook = nbformat.read(workshop / "02.00-push-vs-poll.ipynb", as_version=4)
    assert "rx = wl.workshop_receiver(" in "".join(cell.source for cell in notebook.cells)
    for cell in notebook.cells:
        if "exercise" in cell.metadata.get("tags", []):
            cell.source = (workshop / cell.source.split("%load ", 1)[1].split()[0]).read_text()
    pushed = classroom.store.count("push")
    probe = nbformat.v4.new_code_cell(f"print(type(rx).__name__, rx.url('push').startswith({classroom.bin_url()!r}))")
    notebook.cells.append(probe)
    notebook.cells.append(nbformat.v4.new_code_cell("rx.close()"))  # the relay's goodbye, however the kernel then ends
    kernel = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workshop)}})
    kernel.execute()
    assert "".join(output.get("text", "") for output in probe.outputs).strip() == "Receiver True"
    assert classroom.store.count("push") >= pushed + 6  # what the provider pushed landed in the bin
    printed = "".join(o.get("text", "") for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs)
    assert "✗ Not yet" not in printed and classroom.learner.token not in printed


def test_more_events_than_one_page_of_the_api_are_all_seen(rx, classroom):
    """The bin's API answers a page at a time: the table and wait_for follow the pages to the end."""
    for number in range(1_150):
        requests.post(rx.url("many"), json={"n": number}, timeout=5)
    assert len(rx.wait_for(1_150, endpoint="many", timeout=30)) == 1_150
    assert len(rx.events("many")) == 1_150


def test_large_events_are_read_whole_a_few_to_a_request(rx, classroom):
    """Whole events are asked for by the size of their bodies too: large ones come a few to a request, never cut."""
    bodies = [letter * (6 * 1024 * 1024) for letter in (b"a", b"b", b"c")]  # 16 MB of bodies a request: two, then one
    for body in bodies:
        assert post(rx.url("large"), data=body, headers={"Content-Type": "application/octet-stream"}) == 200
    arrived = rx.wait_for(3, endpoint="large")
    before = classroom.requests
    assert [event.body for event in arrived[:]] == bodies
    assert classroom.requests - before == 1 + 2  # a page of summaries, then the events in two requests
    assert rx.event(-1).body == bodies[-1]
