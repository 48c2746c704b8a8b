"""The grader package: each module imports on its own, scenarios are plain callables, and their own bugs surface."""

import subprocess
import sys

import pytest

from webhooklab.grader import SCENARIOS, Challenge, Scenario, _harness

MODULES = ["_records", "_report", "_scenarios", "_harness"]


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_on_its_own(module):
    command = [sys.executable, "-c", f"import webhooklab.grader.{module}"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_every_scenario_is_a_callable_with_a_unique_name():
    assert all(isinstance(s, Scenario) and callable(s.run) for s in SCENARIOS)
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)


def test_a_bug_in_a_scenario_is_raised_with_its_name_and_the_server_stops(monkeypatch):
    def broken(challenge):
        return {}["missing"]

    scenario = Scenario("broken scenario", "nothing", "nothing", run=broken)
    monkeypatch.setattr(_harness, "SCENARIOS", (scenario,))
    challenge = Challenge(timeout=0.4, slow=0.8)
    challenge.handler(lambda body, headers: 200)
    try:
        with pytest.raises(KeyError) as raised:
            challenge.run()
        assert any("'broken scenario'" in note for note in raised.value.__notes__)
        assert challenge._url is None and challenge._scenario is None
    finally:
        challenge.close()


def test_a_handler_that_replaces_payments_is_reported_not_raised():
    challenge = Challenge(timeout=0.4, slow=0.8)

    @challenge.handler
    def handle(body, headers):
        challenge.payments = None
        return 200

    try:
        report = challenge.run()
    finally:
        challenge.close()
    assert report.happened("valid event").startswith("the grader could not check this: AttributeError")
    assert "check what your handler stores in challenge.payments" in report.hint("valid event")
    assert len(report.table) == len(SCENARIOS)
