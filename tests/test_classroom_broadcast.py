"""The instructor as the provider: one event to every bin of a real class server, over real HTTP.

Every address is loopback (the class server listens on 127.0.0.2). Each test sends to an endpoint of its
own, so it reads only what it sent, in any order. Signatures are checked with the providers' official
libraries where they exist (stripe, standardwebhooks), else with webhooklab's verifier and the bin's own.
"""

import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import standardwebhooks
import stripe
from test_classroom import start_class, stop_class

import webhooklab as wl
from webhooklab._classroom import ClassFolder, ClassServer, numbered
from webhooklab._classroom import broadcast as broadcast_module
from webhooklab._classroom.broadcast import KEPT, RUNNING
from webhooklab._classroom.limits import IN_FLIGHT
from webhooklab._providers import PROVIDERS

CHANGE = {"X-Webhooklab": "1"}
ENDED = 120  # seconds a test waits at most for a broadcast to end: a guard against a hang, not a timing


def broadcast(server, expected: int = 202, **asked) -> dict:
    reply = requests.post(server.dashboard_url + "api/broadcasts", json=asked, headers=CHANGE, timeout=10)
    assert reply.status_code == expected, reply.text
    return reply.json()


def ended(server, started: dict) -> dict:
    """The broadcast once every copy has ended, as the dashboard's API shows it."""
    assert server.broadcasts.get(started["id"]).wait(ENDED)
    return requests.get(server.dashboard_url + f"api/broadcasts/{started['id']}", timeout=10).json()


def respond(server, learner, endpoint: str, **rule) -> None:
    reply = requests.put(server.bin_url(learner) + f"api/endpoints/{endpoint}", json=rule, headers=CHANGE, timeout=10)
    assert reply.status_code == 200, reply.text


def arrived(server, learner, endpoint: str) -> list:
    return [event for event in server.bins[learner.token].store.list() if event.endpoint == endpoint]


def verify(provider: str, secret: str, event, url: str):
    """The event's signature checked with `secret`: by the provider's official library where there is one."""
    headers = dict(event.header_pairs)
    if provider == "stripe":
        return stripe.Webhook.construct_event(event.body, headers["Stripe-Signature"], secret)
    if provider == "standard":
        return standardwebhooks.Webhook(secret).verify(event.body, headers)
    return PROVIDERS[provider](secret).at(url).verify(event.body, headers)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_a_broadcast_reaches_every_bin_signed_with_each_learners_own_secret(classroom, provider):
    classroom.attach()
    cls = PROVIDERS[provider]
    endpoint = f"signed-{provider}"
    started = broadcast(classroom.server, provider=provider, event_type=cls.first_event, endpoint=endpoint)
    assert started["learners"] == 2 and started["title"] == cls.title
    done = ended(classroom.server, started)
    assert [copy["outcome"] for copy in done["copies"]] == ["delivered", "delivered"]
    learners = classroom.server.folder.learners
    bodies = {}
    for learner, other in ((learners[0], learners[1]), (learners[1], learners[0])):
        (event,) = arrived(classroom.server, learner, endpoint)
        url = classroom.server.bin_url(learner) + f"hooks/{endpoint}"
        assert verify(provider, learner.secret, event, url)
        with pytest.raises((stripe.SignatureVerificationError, standardwebhooks.WebhookVerificationError,
                            wl.SignatureError)):  # fmt: skip
            verify(provider, other.secret, event, url)
        assert event.verified is True and event.provider == provider
        bodies[learner.name] = event
    first, second = bodies.values()
    assert first.event_type == second.event_type == cls.first_event
    assert first.body == second.body  # one event; each copy signed for its own bin
    copies = {copy["learner"]: copy for copy in done["copies"]}
    for learner in learners:
        assert copies[learner.name]["signed_with"].endswith(learner.secret[-4:])
        assert learner.secret not in str(done) and learner.token not in str(done)


def test_a_bin_that_answers_500_twice_sees_three_attempts_then_delivered(classroom):
    classroom.attach()
    learner = classroom.learner
    respond(classroom.server, learner, "flaky", status=200, fail_first=2)
    done = ended(classroom.server, broadcast(classroom.server, provider="stripe", event_type="charge.succeeded",
                                              endpoint="flaky", learner=learner.name, replay=1))  # fmt: skip
    (copy,) = done["copies"]
    assert (copy["learner"], copy["outcome"], copy["status"]) == (learner.name, "delivered", "delivered")
    assert [row["status"] for row in copy["attempts"]] == [500, 500, 200]
    assert [row["at"] for row in copy["attempts"]] == ["+0 s", "+30 min", "+1 h 30 min"]  # Stripe's test-mode waits
    assert "simulated failure 1 of 2" in copy["attempts"][0]["answer"]
    assert done["policy"]["schedule"] == ["+0 s", "+30 min", "+1 h 30 min", "+3 h 30 min"]
    events = arrived(classroom.server, learner, "flaky")
    assert len(events) == 3 and all(event.verified for event in events)  # every retry signed afresh, and stored
    assert len({event.body for event in events}) == 1  # the same event each time


def test_what_the_learners_own_receiver_answers_behind_the_relay_is_what_the_broadcast_sees(tmp_path, monkeypatch):
    server = ClassServer(ClassFolder(tmp_path / "c", numbered(2)), host="127.0.0.2").start()
    monkeypatch.chdir(tmp_path)
    learner, other = server.folder.learners
    wl.join_class(server.bin_url(learner))
    rx = wl.workshop_receiver(secrets={"relayed": learner.secret})  # in the learner's kernel, behind their bin
    try:
        rx.respond("relayed", fail_first=2)
        done = ended(server, broadcast(server, provider="stripe", event_type="payment_intent.succeeded",
                                       endpoint="relayed", replay=1))  # fmt: skip
        copies = {copy["learner"]: copy for copy in done["copies"]}
        assert [row["status"] for row in copies[learner.name]["attempts"]] == [500, 500, 200]  # the kernel's answers
        assert "simulated failure 1 of 2" in copies[learner.name]["attempts"][0]["answer"]
        assert [row["status"] for row in copies[other.name]["attempts"]] == [200]  # no kernel: the bin's own answer
        local = rx.wait_for(3)
        assert [event.status for event in local] == [500, 500, 200] and all(event.verified for event in local)
        for event in local:  # byte for byte what the broadcast signed with the learner's secret
            stripe.Webhook.construct_event(event.body, event.header("Stripe-Signature"), learner.secret)
    finally:
        rx.close()
        server.close()


def test_a_learner_added_or_given_a_new_url_gets_the_next_broadcast_there(tmp_path):
    server = ClassServer(ClassFolder(tmp_path / "c", numbered(1)), host="127.0.0.2").start()
    try:
        added = server.add("Ada")
        rotated = server.rotate("learner-01")
        options = requests.get(server.dashboard_url + "api/broadcasts/options", timeout=10).json()
        assert options["learners"] == ["learner-01", "Ada"]
        done = ended(server, broadcast(server, provider="standard", event_type=PROVIDERS["standard"].first_event))
        assert [(copy["learner"], copy["outcome"]) for copy in done["copies"]] == [("learner-01", "delivered"),
                                                                                  ("Ada", "delivered")]  # fmt: skip
        for learner in (rotated, added):
            (event,) = arrived(server, learner, "shop")
            assert standardwebhooks.Webhook(learner.secret).verify(event.body, dict(event.header_pairs))
    finally:
        server.close()


def test_a_bin_that_always_fails_gives_up_after_the_providers_last_retry(classroom):
    classroom.attach()
    respond(classroom.server, classroom.other, "down", status=503)
    done = ended(classroom.server, broadcast(classroom.server, provider="shopify", event_type="orders/create",
                                              endpoint="down", learner=classroom.other.name, replay=1))  # fmt: skip
    (copy,) = done["copies"]
    assert (copy["outcome"], copy["status"]) == ("gave up", "disabled")  # Shopify deletes an Admin API subscription
    assert [row["status"] for row in copy["attempts"]] == [503] * 9 and copy["attempts"][-1]["at"].startswith("+4 h")
    assert done["counts"] == {"delivered": 0, "retrying": 0, "waiting": 0, "sending": 0, "gave up": 1}


def test_one_learner_only(classroom):
    classroom.attach()
    endpoint = "one?and #only"  # a name a URL must quote
    done = ended(classroom.server, broadcast(classroom.server, provider="github", event_type="push", endpoint=endpoint,
                                              learner=classroom.other.name.upper()))  # fmt: skip
    assert [copy["learner"] for copy in done["copies"]] == [classroom.other.name]
    assert len(arrived(classroom.server, classroom.other, endpoint)) == 1
    assert arrived(classroom.server, classroom.learner, endpoint) == []


def test_a_broadcast_waits_for_room_in_a_full_bin_rather_than_be_refused(classroom):
    classroom.attach()
    server, learner = classroom.server, classroom.learner
    respond(server, learner, "slow", status=200, delay=5)
    refused = server.limits.report(learner.token)["refused"].get("in flight", 0)
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        held = [pool.submit(requests.post, server.bin_url(learner) + "hooks/slow", data=b"{}", timeout=30)
                for _ in range(IN_FLIGHT)]  # fmt: skip
        until(lambda: server.limits.report(learner.token)["in_flight"] == IN_FLIGHT)
        started = broadcast(server, provider="stripe", event_type="payment_intent.succeeded", endpoint="roomy",
                            learner=learner.name)  # fmt: skip
        (copy,) = until(lambda: [c for c in state(server, started)["copies"] if c["outcome"] == "waiting"])
        assert "requests in flight, its limit" in copy["note"]
        assert all(reply.result().status_code == 200 for reply in held)
    done = ended(server, started)
    (copy,) = done["copies"]
    assert copy["outcome"] == "delivered" and [row["status"] for row in copy["attempts"]] == [200]
    assert server.limits.report(learner.token)["refused"].get("in flight", 0) == refused


def test_a_bin_that_stays_full_past_the_providers_timeout_refuses_the_attempt_shown_as_a_failure(classroom):
    """Shopify waits 5 s for an answer: the copy waits that long for room, then is sent, refused, and retried."""
    classroom.attach()
    server, learner = classroom.server, classroom.other
    respond(server, learner, "held", status=200, delay=10)
    with ThreadPoolExecutor(IN_FLIGHT) as pool:
        held = [pool.submit(requests.post, server.bin_url(learner) + "hooks/held", data=b"{}", timeout=30)
                for _ in range(IN_FLIGHT)]  # fmt: skip
        until(lambda: server.limits.report(learner.token)["in_flight"] == IN_FLIGHT)
        started = broadcast(server, provider="shopify", event_type="orders/paid", endpoint="full", learner=learner.name,
                            replay=1)  # fmt: skip
        done = ended(server, started)
        assert all(reply.result().status_code == 200 for reply in held)
    (copy,) = done["copies"]
    first, *rest = copy["attempts"]
    assert first["status"] == 429 and "requests in flight" in first["answer"] and first["outcome"].startswith("failed")
    assert copy["outcome"] == "delivered" and rest[-1]["status"] == 200
    assert server.limits.report(learner.token)["refused"]["in flight"] >= 1  # the dashboard's row shows it too


def state(server, started: dict) -> dict:
    return requests.get(server.dashboard_url + f"api/broadcasts/{started['id']}", timeout=10).json()


def until(check):
    """Wait until `check()` holds (a guard of ENDED seconds against a hang); returns what it last returned."""
    deadline = time.monotonic() + ENDED
    while not (result := check()):
        assert time.monotonic() < deadline, "the state never came"
        time.sleep(0.02)
    return result


def test_bad_requests_say_what_was_expected_and_what_arrived(classroom):
    server = classroom.server
    url = server.dashboard_url + "api/broadcasts"
    cases = [
        ({"provider": "strpe", "event_type": "x"}, r"no provider named 'strpe': the known ones are github, .*stripe"),
        ({"event_type": "push"}, "say which provider sends the event: one of github"),
        ({"provider": 5, "event_type": "push"}, "provider must be a provider's name, a str"),
        ({"provider": "stripe", "event_type": "charge.failed"},
         "Stripe has no event type 'charge.failed': its event types are charge.refunded, charge.succeeded"),
        ({"provider": "stripe"}, "say which event Stripe sends: one of charge.refunded"),
        ({"provider": "github", "event_type": "push", "endpoint": "a/b"}, "contains '/'"),
        ({"provider": "github", "event_type": "push", "learner": "nobody"},
         "no learner named 'nobody': its 2 learners are 'learner-01', 'learner-02'"),
        ({"provider": "github", "event_type": "push", "replay": 0}, "from 0.1 to 600"),
        ({"provider": "github", "event_type": "push", "replay": "fast"}, "replay must be a number of seconds"),
        ({"provider": "github", "event_type": "push", "secret": "whsec_x"}, "no field 'secret': its fields are"),
        ([1, 2], "must be a JSON object.*got a JSON list"),
    ]  # fmt: skip
    for asked, says in cases:
        reply = requests.post(url, json=asked, headers=CHANGE, timeout=10)
        assert reply.status_code == 400 and re.search(says, reply.json()["error"]), (asked, reply.text)
        assert "api/broadcasts/options" in reply.json()["hint"]
    not_json = requests.post(url, data="{provider", headers=CHANGE, timeout=10)
    assert not_json.status_code == 400 and "it is not JSON" in not_json.json()["error"]
    assert not_json.json()["arrived"] == "{provider"
    unguarded = requests.post(url, json={"provider": "github", "event_type": "push"}, timeout=10)
    assert unguarded.status_code == 403 and "X-Webhooklab" in unguarded.json()["error"]
    missing = requests.get(url + "/999999", timeout=10)
    assert missing.status_code == 404 and "no broadcast numbered 999999" in missing.json()["error"]
    options = requests.get(url + "/options", timeout=10).json()
    stripe_options = next(one for one in options["providers"] if one["name"] == "stripe")
    assert stripe_options["first_event"] == "payment_intent.succeeded" and options["endpoint"] == "shop"
    assert options["learners"] == ["learner-01", "learner-02"]


def test_at_most_a_few_run_at_once_and_the_latest_are_remembered(tmp_path, monkeypatch):
    server = ClassServer(ClassFolder(tmp_path / "c", numbered(1)), host="127.0.0.2").start()
    try:
        (learner,) = server.folder.learners
        ids = [ended(server, broadcast(server, provider="github", event_type="ping", endpoint="many"))["id"]
               for _ in range(KEPT + 1)]  # fmt: skip
        listed = requests.get(server.dashboard_url + "api/broadcasts", timeout=10).json()["broadcasts"]
        assert [one["id"] for one in listed] == ids[1:]  # the oldest finished one is forgotten
        monkeypatch.setattr(broadcast_module, "ROWS", 1)  # and fewer, when they hold more attempts than that
        last = ended(server, broadcast(server, provider="github", event_type="ping", endpoint="many"))["id"]
        listed = requests.get(server.dashboard_url + "api/broadcasts", timeout=10).json()["broadcasts"]
        assert [one["id"] for one in listed] == [ids[-1], last]
        respond(server, learner, "stuck", status=500)
        running = [broadcast(server, provider="stripe", event_type="charge.succeeded", endpoint="stuck", replay=600)
                   for _ in range(RUNNING)]  # fmt: skip
        busy = broadcast(server, expected=429, provider="github", event_type="ping")
        assert f"{RUNNING} broadcasts are running, as many as run at once" in busy["error"]
        assert all(str(one["id"]) in busy["error"] for one in running)
    finally:
        server.close()  # stops the broadcasts still retrying
    for thread in server.broadcasts._threads:
        thread.join(ENDED)
        assert not thread.is_alive()


# -- the command -------------------------------------------------------------------------


def command(folder, *arguments) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "webhooklab", "classroom", "send", *arguments, "--dir", str(folder)],
                          capture_output=True, text=True, timeout=180)  # fmt: skip


def test_the_command_broadcasts_through_the_running_class_and_prints_each_outcome(tmp_path):
    folder = tmp_path / "c"
    assert "is not a class folder" in command(folder, "stripe", "charge.succeeded").stderr
    process, printed = start_class(folder, "--students", "3")
    try:
        learners = ClassFolder(folder).learners
        base = re.search(r"learners reach it at\s+(\S+)", printed)[1]
        for name, rule in (("learner-02", {"status": 200, "fail_first": 2}), ("learner-03", {"status": 500})):
            token = next(one.token for one in learners if one.name == name)
            reply = requests.put(f"{base}/b/{token}/api/endpoints/shop", json=rule, headers=CHANGE, timeout=10)
            assert reply.status_code == 200
        sent = command(folder, "stripe", "payment_intent.succeeded", "--replay", "1")
        assert sent.returncode == 1, sent.stderr  # one learner's bin never answered 2xx
        out = sent.stdout
        assert "Stripe payment_intent.succeeded (evt_" in out and "to 3 learners, at /hooks/shop" in out
        assert "Stripe (test mode): 4 attempt(s) at +0 s, +30 min, +1 h 30 min, +3 h 30 min" in out
        assert re.search(r"learner-01 +delivered after 1 attempt: 200 at \+0 s", out)
        assert re.search(r"learner-02 +delivered after 3 attempts: 500 at \+0 s, 500 at \+30 min, 200 at \+1 h 30 min", out)
        assert re.search(r"learner-03 +gave up \(exhausted\) after 4 attempts: 500 at \+0 s, .*500 at \+3 h 30 min", out)
        assert "2 delivered, 1 gave up, of 3" in out
        admin = (folder / "admin-token").read_text().strip()
        for secret in (admin, *(one.secret for one in learners), *(one.token for one in learners)):
            assert secret not in out + sent.stderr
        one = command(folder, "github", "push", "--learner", "learner-03", "--endpoint", "gh")
        assert one.returncode == 0 and "to 1 learner, at /hooks/gh" in one.stdout
        assert "learner-03" in one.stdout and "learner-01" not in one.stdout
        wrong = command(folder, "stripe", "charge.failed")
        assert wrong.returncode == 1 and "Stripe has no event type 'charge.failed'" in wrong.stderr
        assert admin not in wrong.stderr
        unknown = command(folder, "strpe", "charge.failed")
        assert unknown.returncode == 2 and "invalid choice: 'strpe'" in unknown.stderr
    finally:
        stop_class(process)
    assert not (folder / "class-url").exists()
    stopped = command(folder, "stripe", "charge.succeeded")
    assert stopped.returncode == 1 and "is not running" in stopped.stderr
