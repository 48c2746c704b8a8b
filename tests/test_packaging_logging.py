"""webhooklab logs as a library should: to its own logger, silent until configured, leaving other libraries' alone.

Each check runs in a fresh interpreter, so what importing webhooklab does to the logging module is all there is.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent

LOGGERS_AS_THEY_ARE = """
import json, logging
def state(name):
    logger = logging.getLogger(name)
    return [logger.level, logger.disabled, logger.propagate, [repr(h) for h in logger.handlers], len(logger.filters)]
NAMES = ("waitress", "waitress.queue", "")
"""

SERVE_AND_COMPARE = LOGGERS_AS_THEY_ARE + """
before = {name: state(name) for name in NAMES}
import requests
import webhooklab as wl
with wl.Receiver() as rx:
    requests.post(rx.url("a"), json={}, timeout=10)
    rx.wait_for(1, timeout=10)
after = {name: state(name) for name in NAMES}
ours = logging.getLogger("webhooklab")
print(json.dumps({"before": before, "after": after, "ours": [type(h).__name__ for h in ours.handlers],
                  "queue_warns": logging.getLogger("waitress.queue").isEnabledFor(logging.WARNING)}))
"""

RECORDS = """
import logging, requests
import webhooklab as wl
from webhooklab._receiving.admission import Admission, Ticket
from webhooklab._receiving.server import BackgroundServer

records = []
class Keep(logging.Handler):
    def emit(self, record):
        records.append((record.name, record.levelname, record.getMessage()))
logging.getLogger("webhooklab").addHandler(Keep())
logging.getLogger("webhooklab").setLevel(logging.DEBUG)

class NoPosts(Admission):
    def admit(self, method, path, length):
        return Ticket(refused=(429, "posts wait their turn")) if method == "POST" else Ticket()

class Guarded(BackgroundServer):
    kind = "guarded server"
    def _admission(self):
        return NoPosts()

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

with Guarded(app) as server:
    print("get", requests.get(server.base_url + "/b/secret-token/", timeout=10).status_code)
    print("post", requests.post(server.base_url + "/b/secret-token/", data=b"x", timeout=10).status_code)
    port = server.port
    waitress = server._server  # what waitress's own code logs to, in this server and its task dispatcher
    waitress.logger.warning("total open connections reached the connection limit")
    waitress.task_dispatcher.queue_logger.warning("Task queue depth is %d", 2)
    waitress.task_dispatcher.logger.exception("Exception when servicing %r", "a task")
for record in records:
    print("record", *record)
print("port", port)
"""


def run(code: str) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return result


def test_importing_and_serving_leave_waitress_and_the_root_logger_as_they_were():
    seen = json.loads(run(SERVE_AND_COMPARE).stdout)
    assert seen["after"] == seen["before"]
    assert seen["queue_warns"], "waitress's queue warnings still reach whoever else serves with waitress here"
    assert seen["ours"] == ["NullHandler"]


def test_a_configured_waitress_logger_keeps_its_level_too():
    code = "import logging; logging.getLogger('waitress').setLevel(logging.INFO)\n" + SERVE_AND_COMPARE
    seen = json.loads(run(code).stdout)
    assert seen["after"] == seen["before"] and seen["after"]["waitress"][0] == 20


def test_waitress_warnings_of_our_servers_are_ours_and_quiet_and_its_errors_still_show():
    """Warnings expected under load (connections at the limit, requests queued) print nothing until logging is
    configured; an error is waitress's own, printed as before."""
    printed = run(RECORDS).stdout
    ours = "record webhooklab._receiving.transport WARNING"
    assert f"{ours} total open connections reached the connection limit" in printed
    assert f"{ours} Task queue depth is 2" in printed
    assert "Exception when servicing" not in printed
    result = run(RECORDS.replace('logging.getLogger("webhooklab").addHandler(Keep())', ""))
    assert result.stderr.splitlines() == ["Exception when servicing 'a task'", "NoneType: None"]


def test_a_server_logs_its_start_its_refusals_and_its_stop_without_a_bins_token():
    result = run(RECORDS)
    assert "get 200" in result.stdout and "post 429" in result.stdout
    port = result.stdout.split("port ")[-1].strip()
    records = [line.removeprefix("record ") for line in result.stdout.splitlines() if line.startswith("record ")]
    server, transport = "webhooklab._receiving.server INFO", "webhooklab._receiving.transport INFO"
    assert f"{server} guarded server listening at http://127.0.0.1:{port}" in "\n".join(records)
    assert f"{transport} refused a POST request for a limit: 429 posts wait their turn" in records
    assert f"{server} guarded server at port {port} stopped" in records
    assert not any("secret-token" in record for record in records)
