"""Every guided notebook runs top to bottom, with each exercise answered by its own solution.

After "Run All" the notebook's kernel is probed: whatever the notebook started must still be running, so the
inspector, the send panel and the checks keep working. Each notebook runs once, in one kernel, for both tests.
"""

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

# One more webhook, sent after the last cell: the receiver still captures, and its inspector page still answers.
RECEIVER_PROBE = """
import requests as _probe_requests

_reply = _probe_requests.post(rx.url("after-run-all"), json={"probe": "after Run All"}, timeout=5)
assert _reply.status_code == 200, _reply.status_code
assert rx.wait_for(1, endpoint="after-run-all", timeout=5)[-1].json == {"probe": "after Run All"}
assert _probe_requests.get(rx.base_url + "/", timeout=5).status_code == 200, "the inspector page does not answer"
print("PROBE receiver ok")
"""

# What the panel's Send button does, called directly: a new event arrives at the panel's endpoint.
PANEL_PROBE = """
_before = len(rx.wait_for(0, endpoint=panel.endpoint))
_sent = panel.send()
assert _sent is not None and _sent.status == 200, panel.result.value
assert len(rx.wait_for(_before + 1, endpoint=panel.endpoint, timeout=5)) == _before + 1
print("PROBE panel ok")
"""

# One of the notebook's own checks, given a wrong answer: it says "not yet" and raises nothing.
WRONG_ANSWERS = {
    "01": "ch01.check_handler_acts(rx, [])",  # a list no handler appends to
    "02": "ch02.check_daily_requests(lambda customers, interval_seconds: 0)",
    "03": "ch03.check_verify_github(lambda body, headers, secret: True)",
    "04": "ch04.check_apply_payment(lambda balance, seen, event: balance)",
    "05": 'ch05.check_refund_handler(rx, orders.assign(status="paid"), stripe)',  # a copy the handler never sees
    "06": "ch06.check_status_codes(dict.fromkeys(ch06.SITUATIONS, 200))",
    "07": "ch07.check_rotation(lambda phase, old, new: new)",  # the new secret before the rotation starts
    "08": 'ch08.check_retry_status(rx, "after-run-all")',  # an endpoint that answers 200
    "09": "ch09.check_p95_latency(None)",
}

CHECK_PROBE = """
_result = {call}
assert _result is False, _result
print("PROBE check ok")
"""

# The challenge keeps its worker: the learner's handler can be graded again after Run All.
CHALLENGE_PROBE = """
_report = challenge.run()
assert _report.ok, _report
print("PROBE challenge ok")
"""


@dataclass
class Ran:
    path: Path
    notebook: nbformat.NotebookNode
    cells: int  # how many cells the notebook has; probes are appended after them
    exercises: list
    client: NotebookClient

    @property
    def source(self) -> str:
        return "\n".join(cell.source for cell in self.notebook.cells[: self.cells] if cell.cell_type == "code")

    def run(self, source: str) -> str:
        """Execute `source` in the notebook's kernel, after its last cell; return what it printed."""
        cell = nbformat.v4.new_code_cell(source)
        self.notebook.cells.append(cell)
        self.client.execute_cell(cell, len(self.notebook.cells) - 1, execution_count=self.client.code_cells_executed + 1)
        return "".join(output.get("text", "") for output in cell.outputs)


@pytest.fixture(scope="module", params=PATHS, ids=lambda p: p.stem)
def ran(request, tmp_path_factory):
    """The notebook, run top to bottom with its solutions in a kernel that stays up for the probes."""
    path = request.param
    workshop = tmp_path_factory.mktemp(path.stem[:5]) / "workshop"
    shutil.copytree(NOTEBOOKS, workshop)
    notebook = nbformat.read(workshop / path.name, as_version=4)
    exercises = [cell for cell in notebook.cells if cell.cell_type == "code" and "exercise" in cell.metadata.get("tags", [])]
    for cell in exercises:
        solution = cell.source.split("%load ", 1)[1].split()[0]
        cell.source = (workshop / solution).read_text()

    client = NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workshop)}})
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
        yield Ran(path, notebook, len(notebook.cells), exercises, client)


def test_notebooks_exist():
    assert PATHS


def test_notebook_is_committed_clean_and_runs_with_its_solutions(ran):
    committed = nbformat.read(ran.path, as_version=4)
    code = [cell for cell in committed.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code), "commit notebooks without outputs"
    ids = [cell.id for cell in committed.cells]
    assert len(ids) == len(set(ids)), "cell ids are unique"
    assert "In this notebook you will" in committed.cells[2].source, "the course card follows the title"
    assert "## Summary" in "".join(cell.source for cell in committed.cells)
    if ran.path.name[:2] in {"01", "02", "03", "04", "05", "06", "07"}:
        assert len(ran.exercises) >= 2, "each numbered notebook has at least two exercises"

    printed = "".join(
        output.get("text", "")
        for cell in ran.notebook.cells[: ran.cells]
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "✗ Not yet" not in printed and printed.count("✓") >= len(ran.exercises)


def test_after_run_all_the_receiver_the_panel_and_the_checks_still_work(ran):
    """Run All must leave what the notebook started running: stopping is the learner's choice."""
    number = re.search(r"\d\d", ran.path.name).group()  # 09 for OPTIONAL-09.00-...
    probed = []
    if "rx = wl.Receiver(" in ran.source or "rx = wl.workshop_receiver(" in ran.source:
        assert "PROBE receiver ok" in ran.run(RECEIVER_PROBE)
        probed.append("receiver")
    if "SendPanel(" in ran.source:
        assert "panel = wl.widgets.SendPanel(" in ran.source, "name the send panel `panel` so it can be probed"
        assert "PROBE panel ok" in ran.run(PANEL_PROBE)
        probed.append("panel")
    if "Challenge()" in ran.source:
        assert "PROBE challenge ok" in ran.run(CHALLENGE_PROBE)
        probed.append("challenge")
    if number in WRONG_ANSWERS:
        printed = ran.run(CHECK_PROBE.format(call=WRONG_ANSWERS[number]))
        assert "PROBE check ok" in printed and "✗ Not yet" in printed, printed
        probed.append("check")
    if ran.path.name[:2] in {"01", "02", "03", "04", "05", "06", "07", "08"}:
        assert "check" in probed, "give this notebook a wrong answer to probe one of its checks with"
    assert probed
