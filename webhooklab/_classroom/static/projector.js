// The projector's view: where everyone is, in large text, for the room to see. It reads api/progress, which
// holds no token and no secret, and shows no link to a bin.
"use strict";

let onlyStuck = false;
let latest = null;

function chapter(notebook) {  // 04.00-failures-and-retries -> 04 failures and retries
  return notebook ? notebook.replace(/^(OPTIONAL-)?(\d+)\.00-/, "$2 ").replaceAll("-", " ") : "not started";
}

function drawRoom(data) {
  latest = data;
  const learners = onlyStuck ? data.learners.filter((learner) => learner.stuck) : data.learners;
  const rows = learners.map((learner) => {
    const row = document.createElement("tr");
    row.dataset.learner = learner.name;
    if (learner.stuck) row.className = "stuck";
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = learner.name;
    row.appendChild(name);
    cell(row, chapter(learner.notebook));
    const total = Object.keys(learner.exercises).length;
    cell(row, total ? `${learner.passed} / ${total}` : "", "number");
    cell(row, learner.challenge ? `${learner.challenge.score} / ${learner.challenge.total}` : "", "number");
    cell(row, learner.stuck ? `stuck, ${ago(learner.since_success)}` : ago(learner.since_success));
    return row;
  });
  $("room").replaceChildren(...rows);
  const stuck = data.learners.filter((learner) => learner.stuck).length;
  $("room-learners").textContent = data.learners.length;
  $("room-stuck").textContent = stuck;
  $("stuck-after").textContent = `${data.stuck_after / 60} minutes`;  // the server's own rule
}

function setUpProjector() {
  // Full screen hides the address bar: its URL holds the admin token, which the room must not see.
  $("full-screen").addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  });
  const button = $("only-stuck");
  button.addEventListener("click", () => {
    onlyStuck = !onlyStuck;
    button.setAttribute("aria-pressed", String(onlyStuck));  // a toggle: its name stays, its state changes
    if (latest) drawRoom(latest);
  });
}

section("api/progress", drawRoom);
document.addEventListener("DOMContentLoaded", setUpProjector);
