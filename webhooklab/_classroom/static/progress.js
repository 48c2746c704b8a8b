// The dashboard's progress section: where each learner is in the course, and who is stuck (api/progress).
"use strict";

function drawProgress(data) {
  const rows = data.learners.map((learner) => {
    const row = document.createElement("tr");
    row.dataset.learner = learner.name;
    if (learner.stuck) row.className = "stuck";
    cell(row, learner.stuck ? `${learner.name} (stuck)` : learner.name);
    cell(row, learner.notebook || "not started");
    const verdicts = Object.entries(learner.exercises);
    const checks = cell(row, verdicts.length ? `${learner.passed} of ${verdicts.length} passed` : "");
    for (const [exercise, verdict] of verdicts) {
      const chip = document.createElement("span");
      chip.className = verdict.passed ? "chip ok" : "chip bad";
      chip.dataset.exercise = exercise;
      chip.textContent = `${verdict.passed ? "✓" : "✗"} ${exercise}`;
      chip.title = `${verdict.notebook}: ${verdict.runs} run(s), the latest at ${when(verdict.at)}`;
      checks.append(" ", chip);
    }
    const challenge = learner.challenge;
    cell(row, challenge ? `${challenge.score} / ${challenge.total}` : "");
    cell(row, ago(learner.since_success), learner.stuck ? "bad" : "");
    cell(row, learner.last_activity ? `${when(learner.last_activity)} (${ago(learner.since_activity)})` : "");
    return row;
  });
  redraw($("progress"), rows);
  const stuck = data.learners.filter((learner) => learner.stuck).length;
  $("progress-summary").textContent = stuck ? `${stuck} stuck (a check failing, none passed for ${data.stuck_after / 60} min)` : "nobody stuck";
}

section("api/progress", drawProgress);
