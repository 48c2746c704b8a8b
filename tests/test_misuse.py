"""Every misuse is a clear error: a UsageError (a ValueError too) or a ReceiverError whose message says
what was expected and what arrived, raised where the mistake was made, and the receiver works on."""

import math
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading

import numpy as np
import pytest
import requests
from receivers import woken_only_by_notify

import webhooklab as wl
from webhooklab._receiving.rules import Rule


def arrived(text: str) -> str:
    """A `match=` pattern for a message that quotes `text` literally."""
    return re.escape(text)


# -- respond(): status, delay, fail_first ----------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "shown"),
    [(99, "got 99"), (600, "got 600"), (True, "got True (a bool)"), ("200", "got '200'"), (200.0, "got 200.0")],
)
def test_a_status_outside_100_to_599_is_a_usage_error(rx, status, shown):
    with pytest.raises(wl.UsageError, match=r"from 100 to 599, " + arrived(shown)) as caught:
        rx.respond("shop", status=status)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("delay", "message"),
    [
        (math.nan, "finite number of seconds, got nan"),
        (math.inf, "finite number of seconds, got inf"),
        (-math.inf, "finite number of seconds, got -inf"),
        (-1, "cannot be negative, got -1"),
        (7200, "at most 3600 s (an hour), got 7200"),
        ("5", "number of seconds, got '5'"),
        (True, "number of seconds, got True (a bool)"),
        (None, "number of seconds, got None"),
    ],
)
def test_a_delay_must_be_finite_seconds_from_0_to_an_hour(rx, delay, message):
    with pytest.raises(wl.UsageError, match=r"^delay .*" + arrived(message)):
        rx.respond("shop", delay=delay)


@pytest.mark.parametrize(
    ("fail_first", "message"),
    [(2.5, "whole number of requests (0 or more), got 2.5"), (True, "got True (a bool)"), ("3", "got '3'"),
     (-1, "cannot be negative, got -1")],
)  # fmt: skip
def test_fail_first_must_be_a_whole_number_from_0(rx, fail_first, message):
    with pytest.raises(wl.UsageError, match=r"^fail_first .*" + arrived(message)):
        rx.respond("shop", fail_first=fail_first)


def test_a_rule_checks_its_values_however_it_is_made():
    # The inspector's page builds Rule(...) itself: the same checks apply there.
    with pytest.raises(wl.UsageError, match="got nan"):
        Rule(200, float("nan"))
    with pytest.raises(wl.UsageError, match="from 100 to 599, got 42"):
        Rule(42)
    with pytest.raises(wl.UsageError, match=r"must be a Rule\(\.\.\.\), got 500"):
        wl.Receiver().responses.set("shop", 500)


def test_a_refused_rule_leaves_the_one_in_force_and_requests_are_answered(rx, http):
    rx.respond("shop", status=201, delay=0.01, fail_first=1)
    for mistake in [dict(delay=math.nan), dict(delay=math.inf), dict(fail_first=2.5), dict(status=99),
                    dict(body=5), dict(headers={"X": "a\r\nb"})]:  # fmt: skip
        with pytest.raises(wl.UsageError):
            rx.respond("shop", **mistake)
    assert [http.post(rx.url("shop"), data=b"x", timeout=5).status_code for _ in range(2)] == [500, 201]
    assert [e.status for e in rx.wait_for(2, endpoint="shop")] == [500, 201]


def test_numpy_numbers_are_whole_numbers_and_seconds(rx, http):
    # Values read from a DataFrame are numpy scalars, not int or float.
    rx.respond("np", status=np.int64(503), delay=np.float64(0.01), fail_first=np.int32(0))
    assert http.post(rx.url("np"), timeout=5).status_code == 503
    assert rx.event(np.int64(rx.events().index[-1])).status == 503


# -- respond(): headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"X-Note": "a\r\nSet-Cookie: b"}, "header 'X-Note' has a CR (carriage return) in its value"),
        ({"X-Note": "a\nb"}, "header 'X-Note' has a LF (line feed) in its value 'a\\nb'"),
        ({"X-Note": "a\0b"}, "header 'X-Note' has a NUL in its value"),
        ({"X-Note": "a\x7fb"}, "header 'X-Note' has a control character '\\x7f'"),
        ({"X-Note": "café ☕"}, "header 'X-Note' has '☕' in its value 'café ☕': HTTP sends header values as Latin-1"),
        ({"X-Note": None}, "header 'X-Note' must have a str value, such as '30', got None"),
        ({"X-Note": 1.5}, "header 'X-Note' must have a str value, such as '30', got 1.5"),
        ({"X Note": "1"}, "header name 'X Note' is not one HTTP can carry"),
        ({"X-Note:": "1"}, "header name 'X-Note:' is not one HTTP can carry"),
        ({"X\r\nY": "1"}, "header name 'X\\r\\nY' is not one HTTP can carry"),
        ({"": "1"}, "header name '' is not one HTTP can carry"),
        ({b"X": "1"}, "header name b'X' is not one HTTP can carry"),
        ({"Connection": "close"}, "header 'Connection' cannot be chosen: it describes one connection"),
        ({"transfer-encoding": "chunked"}, "header 'transfer-encoding' cannot be chosen"),
        ({"Content-Length": "3"}, "header 'Content-Length' cannot be chosen: the receiver sets it from the body"),
        ([("X-Note", "1")], "headers must be a dict of name to value, such as {'Retry-After': '30'}, got [('X-Note', '1')]"),
    ],
)
def test_a_header_http_cannot_carry_is_refused_naming_it(rx, headers, message):
    with pytest.raises(wl.UsageError, match=arrived(message)):
        rx.respond("shop", headers=headers)


def test_a_refused_header_is_never_sent_and_good_ones_are(rx, http):
    with pytest.raises(wl.UsageError, match="header injection"):
        rx.respond("inject", headers={"X-Note": "a\r\nSet-Cookie: session=evil"})
    reply = http.post(rx.url("inject"), timeout=5)
    assert reply.status_code == 200 and "Set-Cookie" not in reply.headers and "X-Note" not in reply.headers
    assert rx.event(-1).status == 200

    rx.respond("busy", status=429, headers={"Retry-After": 30, "content-type": "text/plain", "X-Tab": "a\tb"})
    reply = http.post(rx.url("busy"), timeout=5)
    assert (reply.status_code, reply.headers["Retry-After"], reply.headers["X-Tab"]) == (429, "30", "a\tb")
    assert reply.headers["Content-Type"] == "text/plain"  # replaces the default, whatever its case: not two of them
    assert rx.event(-1).status == 429


# -- respond(): body ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (5, "got 5. To answer the text 5, pass body='5'"),
        (2.5, "got 2.5. To answer the text 2.5, pass body='2.5'"),
        (True, "got True (a bool)"),
        ((1, 2), "got (1, 2) (a tuple)"),
        ({"a", "b"}, "(a set)"),
        (memoryview(b"x"), "(a memoryview)"),
    ],
)
def test_a_body_must_be_none_str_bytes_dict_or_list(rx, body, message):
    with pytest.raises(wl.UsageError, match=r"^body must be None .*str .*bytes .*dict or list .*" + arrived(message)):
        rx.respond("shop", body=body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"at": object()}, "Object of type object is not JSON serializable"),
        ([1, {"n": math.nan}], "Out of range float values are not JSON compliant"),
        ("half \ud800 a pair", "cannot be sent as UTF-8 text: '\\ud800' at position 5"),
    ],
)
def test_a_body_that_cannot_be_encoded_is_refused_when_set(rx, body, message):
    with pytest.raises(wl.UsageError, match=arrived(message)):
        rx.respond("shop", body=body)


def test_bodies_of_every_allowed_kind_are_sent(rx, http):
    for body, sent in [("5", b"5"), (bytearray(b"\x00\x01"), b"\x00\x01"), ([1, 2], b"[1, 2]"), ({}, b"{}")]:
        rx.respond("kinds", body=body)
        assert http.post(rx.url("kinds"), timeout=5).content == sent


# -- endpoint names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("endpoint", "message"),
    [
        ("a/b", "endpoint name 'a/b' contains '/'"),
        ("/shop", "endpoint name '/shop' contains '/'"),
        ("", "endpoint cannot be an empty name"),
        (".", "endpoint name '.' cannot be used"),
        ("..", "endpoint name '..' cannot be used"),
        ("a\nb", "endpoint name 'a\\nb' contains the control character '\\n'"),
        ("a\0", "endpoint name 'a\\x00' contains the control character '\\x00'"),
        (5, "endpoint must be an endpoint name, a str such as 'shop', got 5"),
        (None, "endpoint must be an endpoint name, a str such as 'shop', got None"),
    ],
)
def test_an_endpoint_name_that_cannot_arrive_whole_is_refused(rx, endpoint, message):
    with pytest.raises(wl.UsageError, match=arrived(message)):
        rx.url(endpoint)
    with pytest.raises(wl.UsageError, match=arrived(message)):
        rx.respond(endpoint, status=500)
    if endpoint is not None:  # wait_for(endpoint=None) counts every endpoint
        with pytest.raises(wl.UsageError, match=arrived(message)):
            rx.wait_for(1, endpoint=endpoint, timeout=0)


def test_a_slash_in_an_endpoint_says_where_requests_would_go(rx):
    with pytest.raises(wl.UsageError, match=arrived("captured under 'a'. Use a name without '/', such as 'a-b'")):
        rx.url("a/b")
    with pytest.raises(wl.UsageError, match="each key of secrets .*got 7"):
        wl.Receiver(secrets={7: "whsec_x"})
    with pytest.raises(wl.UsageError, match=arrived("endpoint name 'pay/stripe' contains '/'")):
        wl.Receiver(secrets={"pay/stripe": "whsec_x"})


def test_unusual_but_whole_endpoint_names_still_arrive_whole(rx, http):
    for name in ["café ☕", "a b", "50%?#", "<endpoint>"]:
        rx.respond(name, status=202)
        assert http.post(rx.url(name), data=b"x", timeout=5).status_code == 202
        assert rx.event(-1).endpoint == name


# -- wait_for() -----------------------------------------------------------------------------------


@pytest.mark.timeout(10)  # before the fix, timeout=nan blocked for ever
@pytest.mark.parametrize(
    ("timeout", "message"),
    [
        (math.nan, "timeout must be a finite number of seconds, got nan"),
        (math.inf, "timeout must be a finite number of seconds, got inf: how long to wait, or None"),
        (-1, "timeout cannot be negative, got -1"),
        ("5", "timeout must be a number of seconds, got '5'"),
        (True, "timeout must be a number of seconds, got True (a bool)"),
    ],
)
def test_wait_for_needs_a_finite_timeout_or_none(rx, timeout, message):
    with pytest.raises(wl.UsageError, match=arrived(message)):
        rx.wait_for(1, timeout=timeout)


@pytest.mark.parametrize(
    ("n", "message"),
    [(2.5, "n must be a whole number of events (0 or more), got 2.5"), (-1, "n cannot be negative, got -1"),
     (True, "got True (a bool)"), ("1", "got '1'")],
)  # fmt: skip
def test_wait_for_needs_a_whole_number_of_events(rx, n, message):
    with pytest.raises(wl.UsageError, match=arrived(message)):
        rx.wait_for(n, timeout=0)


@pytest.mark.timeout(60)
def test_wait_for_with_no_timeout_returns_on_arrival(rx):
    found = []
    with woken_only_by_notify(rx) as asleep:
        waiter = threading.Thread(target=lambda: found.extend(rx.wait_for(1, endpoint="whenever", timeout=None)),
                                  daemon=True)  # fmt: skip
        waiter.start()
        assert asleep.wait(10)
        requests.post(rx.url("whenever"), data=b"late", timeout=5)
        waiter.join(20)
        assert not waiter.is_alive(), "wait_for(timeout=None) slept through the arrival: nothing woke it"
    assert [e.body for e in found] == [b"late"]
    assert rx.wait_for(0, timeout=0) == rx.store.list()  # n=0 is already true


@pytest.mark.timeout(60)
def test_wait_for_with_no_timeout_ends_when_the_receiver_stops():
    rx = wl.Receiver().start()
    outcome = []

    def wait():
        try:
            rx.wait_for(1, timeout=None)
        except wl.ReceiverError as error:
            outcome.append(str(error))

    with woken_only_by_notify(rx) as asleep:
        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        assert asleep.wait(10)
        rx.stop()
        waiter.join(20)  # it can no longer look again by itself: only stop() can wake it
        assert not waiter.is_alive(), "stop() left a wait_for(timeout=None) asleep"
    assert outcome and "the receiver is not running" in outcome[0]
    with pytest.raises(wl.ReceiverError, match="not running"):
        rx.wait_for(1, timeout=None)  # and a stopped receiver says so at once
    rx.close()


@pytest.mark.timeout(20)
def test_a_very_long_finite_timeout_is_no_overflow(rx, http):
    threading.Timer(0.2, lambda: requests.post(rx.url("patient"), timeout=5)).start()
    assert len(rx.wait_for(1, endpoint="patient", timeout=1e12)) == 1


# -- event ids ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_id", [2**63, 2**64, 10**30, -(2**63) - 1, -(10**30)])
def test_an_id_beyond_sqlite_integers_is_not_found(rx, http, event_id):
    http.post(rx.url("ids"), timeout=5)
    with pytest.raises(wl.EventNotFound, match=arrived(f"no event with id {event_id}: the store holds 1 event(s)")):
        rx.event(event_id)
    assert rx.event(-1).endpoint == "ids"


@pytest.mark.parametrize(
    ("event_id", "shown"), [("1", "got '1' (type str)"), (1.0, "got 1.0 (type float)"), (True, "got True (type bool)"),
                            (None, "got None")],
)  # fmt: skip
def test_an_id_that_is_not_a_whole_number_is_a_usage_error(rx, http, event_id, shown):
    http.post(rx.url("ids"), timeout=5)
    with pytest.raises(wl.UsageError, match=r"an event id is a whole number.*" + arrived(shown)):
        rx.event(event_id)


def test_ids_from_the_table_are_numpy_integers_and_work(rx, http):
    http.post(rx.url("ids"), data=b"first", timeout=5)
    http.post(rx.url("ids"), data=b"second", timeout=5)
    index = rx.events().index
    assert [rx.event(i).body for i in index] == [b"first", b"second"]  # numpy.int64 each
    assert rx.event(np.int64(-2)).body == b"first"
    with pytest.raises(wl.EventNotFound, match="no event with id -3"):
        rx.event(-3)


# -- db= ------------------------------------------------------------------------------------------


def test_a_folder_as_db_names_a_file_to_use_instead(tmp_path):
    with pytest.raises(wl.UsageError, match=arrived(f"db={str(tmp_path)!r} is a folder") + ".*" + arrived("events.db")):
        wl.Receiver(db=tmp_path)


def test_a_db_in_a_missing_folder_names_that_folder(tmp_path):
    path = tmp_path / "no-such-folder" / "events.db"
    with pytest.raises(wl.UsageError, match=arrived(f"in a folder that does not exist: {str(path.parent)!r}")):
        wl.Receiver(db=path)
    assert not path.parent.exists()  # nothing is created behind the learner's back


def test_a_db_below_a_file_says_that_is_a_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(wl.UsageError, match=arrived("notes.txt' is a file, not a folder")):
        wl.Receiver(db=str(tmp_path / "notes.txt" / "events.db"))


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 10)
    with pytest.raises(wl.UsageError, match=arrived(f"db={str(notes)!r} exists but is not a SQLite database")):
        wl.Receiver(db=notes)
    assert notes.read_text() == "my notes, not a database\n" * 10


def test_a_sqlite_file_with_another_events_table_is_refused(tmp_path):
    other = tmp_path / "app.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, title TEXT)")
    db.close()
    with pytest.raises(wl.UsageError, match=arrived(f"db={str(other)!r} is a SQLite database, but its events table")):
        wl.Receiver(db=other)


@pytest.mark.parametrize(
    ("db", "message"),
    [(5, "db must be a file path (a str or pathlib.Path), or None"), (b"events.db", "got b'events.db' (type bytes)"),
     ("", "db is an empty path")],
)  # fmt: skip
def test_a_db_that_is_not_a_path_is_a_usage_error(db, message):
    with pytest.raises(wl.UsageError, match=arrived(message)):
        wl.Receiver(db=db)


def test_a_home_relative_db_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    rx = wl.Receiver(db="~/events.db")
    assert rx.store.path == tmp_path / "events.db" and (tmp_path / "events.db").exists()
    rx.close()


READ_ONLY = """
import sys, webhooklab as wl
try:
    wl.Receiver(db=sys.argv[1]).close()
except wl.WebhooklabError as error:
    print(type(error).__name__, error, sep="|")
"""


# Root writes anywhere: the file permissions under test apply to root only without these two capabilities. The
# process stays this user, so it still reads the checkout and its venv wherever they are (a private folder too).
WITHOUT_OVERRIDES = ["setpriv", "--inh-caps=-all", "--bounding-set=-dac_override,-dac_read_search"]


@pytest.fixture
def read_only_place(tmp_path):
    """A read-only folder holding a read-only folder and a read-only SQLite file."""
    place = str(tmp_path / "place")
    os.mkdir(place)
    os.mkdir(os.path.join(place, "locked"), 0o555)
    os.chmod(os.path.join(place, "locked"), 0o555)
    wl.Receiver(db=os.path.join(place, "old.db")).close()
    for name in os.listdir(place):
        if name.startswith("old.db"):
            os.chmod(os.path.join(place, name), 0o444)
    os.chmod(place, 0o555)  # nor can SQLite write a journal beside the file
    yield place
    for folder in (place, os.path.join(place, "locked")):
        os.chmod(folder, 0o755)  # so that pytest can remove them


def open_without_privileges(db: str) -> str:
    """Open a Receiver on `db` in a fresh interpreter to which file permissions apply (root's, without overrides)."""
    command = [sys.executable, "-c", READ_ONLY, db]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root, and setpriv (util-linux) is not here to drop root's overrides")
        command = [*WITHOUT_OVERRIDES, *command]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, cwd="/")
    if os.geteuid() == 0 and result.returncode != 0 and result.stderr.startswith("setpriv:"):
        pytest.skip(f"running as root, and this machine does not let setpriv drop root's overrides: {result.stderr}")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_read_only_folder_is_a_receiver_error_naming_it(read_only_place):
    db = os.path.join(read_only_place, "locked", "events.db")
    said = open_without_privileges(db)
    assert said.startswith(f"ReceiverError|cannot write to db={db!r}: the folder ")
    assert "is read-only for this user" in said


def test_a_read_only_file_is_a_receiver_error_naming_it(read_only_place):
    db = os.path.join(read_only_place, "old.db")
    said = open_without_privileges(db)
    assert said.startswith(f"ReceiverError|cannot write to db={db!r}: the file is read-only for this user")


# -- Receiver(...) arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(port=99999), "port must be from 0 (any free port) to 65535, got 99999"),
        (dict(port=-1), "port must be from 0 (any free port) to 65535, got -1"),
        (dict(port="8000"), "port must be a whole number from 0 (any free port) to 65535, got '8000'"),
        (dict(port=8000.0), "got 8000.0"),
        (dict(port=True), "got True (a bool)"),
        (dict(host=5), "host must be the address to listen on, such as '127.0.0.1'"),
        (dict(host=""), "got ''"),
        (dict(host=None), "got None"),
        (dict(host="http://127.0.0.1:8000"), "not a URL, got 'http://127.0.0.1:8000'"),
        (dict(host="localhost:8000"), "host 'localhost:8000' includes a port: give it separately, as Receiver(host='localhost', port=8000)"),
        (dict(max_body=0), "max_body must be at least 1 byte, got 0"),
        (dict(max_body=-5), "max_body must be at least 1 byte, got -5"),
        (dict(max_body=1.5), "max_body must be a whole number of bytes, such as 10 * 1024 * 1024 for 10 MB, got 1.5"),
        (dict(max_body="10MB"), "got '10MB'"),
        (dict(reject_invalid="no"), "reject_invalid must be True or False, got 'no'"),
        (dict(secrets=["whsec_x"]), "secrets must be a dict of endpoint name to secret"),
        (dict(secrets={"pay": None}), "the secret for endpoint 'pay' must be a non-empty str, a list of them "
         "(while rotating) or a provider such as Stripe('whsec_...'), got None: is it read from an environment "
         "variable that is not set?"),
        (dict(secrets={"pay": ""}), "got '': is it read from an environment variable"),
        (dict(secrets={"pay": 42}), "the secret for endpoint 'pay' must be a non-empty str"),
        (dict(secrets={"pay": wl.Stripe}), "the secret for endpoint 'pay' must be a non-empty str"),
    ],
)  # fmt: skip
def test_receiver_arguments_are_checked_before_anything_opens(tmp_path, arguments, message):
    db = tmp_path / "events.db"
    with pytest.raises(wl.UsageError, match=arrived(message)):
        wl.Receiver(db=db, **arguments)
    assert not db.exists()  # refused before the store was opened


def test_numpy_port_and_max_body_are_whole_numbers():
    with wl.Receiver(port=np.int64(0), max_body=np.int32(8)) as rx:
        assert requests.post(rx.url("small"), data=b"12345678", timeout=5).status_code == 200
        assert requests.post(rx.url("small"), data=b"123456789", timeout=5).status_code == 413
    rx.close()
