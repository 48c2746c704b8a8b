// The dashboard's room section: empty a learner's bin, give them a new URL and secret, add a learner.
// Each button sends one POST with the X-Webhooklab header; the answer (never a whole secret) is shown as text.
"use strict";

function fillLearners(data) {
  const select = $("room-learner");
  const names = data.learners.map((learner) => learner.name);
  if (names.join("\n") === Array.from(select.options, (option) => option.value).join("\n")) return;
  const chosen = select.value;
  select.replaceChildren(...names.map((name) => new Option(name, name)));
  if (names.includes(chosen)) select.value = chosen;
}

async function change(path, name, done) {
  const status = $("room-status");
  status.textContent = "…";
  try {
    const reply = await fetch(path, { method: "POST", body: JSON.stringify({ name }),
                                      headers: { "X-Webhooklab": "1", "Content-Type": "application/json" } });
    status.textContent = done(await answer(reply));
    status.className = "ok";
  } catch (error) {  // fetch's own TypeError: nothing answered; any other: what answered, in words
    status.textContent = error instanceof TypeError ? `the server did not answer: ${error.message}` : error.message;
    status.className = "bad";
  }
}

function setUpRoom() {
  $("room-reset").addEventListener("click", () => {
    const name = $("room-learner").value;
    if (name && confirm(`Empty the bin of ${name}? Their events go; their URL stays.`)) {
      change("api/learners/reset", name, (answer) => `${answer.name}'s bin is empty.`);
    }
  });
  $("room-rotate").addEventListener("click", () => {
    const name = $("room-learner").value;
    if (name && confirm(`Give ${name} a new URL and signing secret? The old URL stops working at once.`)) {
      change("api/learners/rotate", name, (answer) =>
        `${answer.name} has a new URL and secret (${answer.secret}): their card in the handout has both; they run wl.join_class again with the new URL.`);
    }
  });
  $("room-add").addEventListener("submit", (event) => {
    event.preventDefault();
    const name = $("room-name").value.trim();
    if (name) {
      change("api/learners", name, (answer) => `${answer.name} joined the class: their card is in the handout.`);
      $("room-name").value = "";
    }
  });
}

section("api/progress", fillLearners);
document.addEventListener("DOMContentLoaded", setUpRoom);
