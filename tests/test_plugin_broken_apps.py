"""The README's suite, run as a developer copies it, against endpoints that each get one thing wrong.

It must fail for each broken endpoint in tests/broken_apps/endpoints.py, in the tests that
cover what it got wrong and with a message that names the case, and pass for the right ones.
One pytest process runs the suite against every endpoint; each test here reads its verdicts.
"""

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from readme_suite import write

pytest_plugins = ["pytester"]

ENDPOINTS = Path(__file__).parent / "broken_apps" / "endpoints.py"
CONFTEST = '''
import pytest
from endpoints import ALL


@pytest.fixture(params=ALL, ids=lambda endpoint: endpoint.__name__)
def endpoint(request):
    return request.param()


@pytest.fixture
def hooks(webhook, endpoint):
    return webhook(endpoint.app, endpoint.scheme, secret=endpoint.secret, path="/webhooks")


@pytest.fixture
def work(endpoint):
    return lambda: len(endpoint.done)
'''
SIGNED, FORGERIES, DUPLICATE = "signed_event_is_accepted", "every_forgery", "duplicate_is_acknowledged"
AT_ONCE, REPLAY, RETRIES = "copies_arriving_at_once", "replay_with_a_fresh_delivery_id", "retries_end_delivered"
EVERYTHING = {SIGNED, FORGERIES, DUPLICATE, AT_ONCE, REPLAY, RETRIES}

# For each endpoint: the suite's tests that must fail (by a word of their names), and what the failure of
# the one that tells most must say: the forgery's name, why nothing could be tested, or the work counted.
EXPECTED = {
    "Correct": (set(), None, ""),
    "CorrectGitHub": (set(), None, ""),
    "VerifiesNothing": ({FORGERIES, REPLAY}, FORGERIES, "tampered"),
    "ReserialisesTheBody": (EVERYTHING, FORGERIES, "your app refused a correctly signed request (status 400"),
    "IgnoresTheTimestamp": ({FORGERIES}, FORGERIES, "stale"),
    "AcceptsTheFuture": ({FORGERIES}, FORGERIES, "future"),
    "RefusesEveryHost": (EVERYTHING, FORGERIES, "your app refused a correctly signed request (status 400"),
    "DoesNotDeduplicate": ({DUPLICATE, AT_ONCE}, DUPLICATE, "assert 3 == 1"),
    "DeduplicatesWithARace": ({AT_ONCE}, AT_ONCE, "assert 8 == 1"),
    "WorksBeforeVerifying": ({FORGERIES, DUPLICATE, AT_ONCE, REPLAY}, FORGERIES,
                             "did something for a forged request: tampered"),
    "DeduplicatesOnTheDeliveryHeader": ({REPLAY}, REPLAY, "assert 2 == 1"),
    "AcceptsAMissingSignature": ({FORGERIES}, FORGERIES, "unsigned"),
}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory) -> dict[str, dict[str, str]]:
    """For each endpoint, each failed test of the suite (a word of its name) and its failure message."""
    folder = tmp_path_factory.mktemp("copied_suite")
    shutil.copy(ENDPOINTS, folder)
    write(folder, "test_webhooks.py")  # the README's suite, exactly as it stands
    (folder / "conftest.py").write_text(CONFTEST)
    (folder / "pytest.ini").write_text("[pytest]\nfilterwarnings =\n    error\n")
    report = folder / "report.xml"
    ran = subprocess.run([sys.executable, "-m", "pytest", "-p", "webhooklab.testing", "-p", "no:cacheprovider",
                          "-p", "no:randomly", f"--junitxml={report}", "-q"],
                         cwd=folder, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert report.exists(), ran.stdout + ran.stderr
    found: dict[str, dict[str, str]] = {name: {} for name in EXPECTED}
    for case in ElementTree.parse(report).iter("testcase"):
        test, _, endpoint = case.get("name").rstrip("]").partition("[")
        (word,) = [word for word in EVERYTHING if word in test]
        for failure in [*case.iter("failure"), *case.iter("error")]:
            found[endpoint][word] = f"{failure.get('message', '')}\n{failure.text or ''}"
    assert sum(len(case) for case in found.values()) or ran.returncode == 0, ran.stdout + ran.stderr
    return found


@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_the_readme_suite_fails_where_the_endpoint_is_wrong_and_says_why(verdicts, endpoint):
    failing, telling, says = EXPECTED[endpoint]
    failed = verdicts[endpoint]
    assert set(failed) == failing, {word: message[:300] for word, message in failed.items()}
    if telling:
        assert says in failed[telling], failed[telling]
