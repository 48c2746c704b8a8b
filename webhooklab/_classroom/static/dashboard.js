// The instructor's dashboard: polls api/class (one request at a time) and redraws the table.
// Every value is set as text, never as markup: a learner's name and what they sent are data.
"use strict";

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

function draw(data) {
  const rows = data.learners.map((learner) => {
    const row = document.createElement("tr");
    row.dataset.learner = learner.name;
    cell(row, learner.name);
    cell(row, learner.received, "number");
    cell(row, learner.verified, "number");
    cell(row, learner.failed, learner.failed ? "number bad" : "number");
    cell(row, learner.duplicates, "number");
    cell(row, when(learner.last_activity));
    const challenge = learner.challenge;
    cell(row, challenge ? `${challenge.score} / ${challenge.total}` : "", challenge && challenge.score === challenge.total ? "ok" : "");
    cell(row, challenge ? challenge.failing.join(", ") : "", "bad");
    const limits = learner.limits;
    const hit = Object.entries(limits.refused).map(([limit, times]) => `${limit} ×${times}`).join(", ");
    const kept = `${(limits.stored_bytes / 1048576).toFixed(1)} of ${limits.quota_bytes / 1048576} MB`;
    const share = cell(row, hit ? `${kept}; refused: ${hit}` : kept, hit ? "bad" : "");
    if (limits.last_refused) share.title = limits.last_refused;
    const link = document.createElement("a");
    link.href = learner.page;  // relative: ../../b/<token>/
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = "open page";
    cell(row, "").appendChild(link);
    return row;
  });
  $("learners").replaceChildren(...rows);
  $("summary").textContent = `${data.learners.length} learners, ${data.events} events`;
}

async function poll() {
  try {
    const reply = await fetch("api/class", { cache: "no-store" });
    if (!reply.ok) throw new Error(`the server answered ${reply.status}`);
    draw(await reply.json());
    $("live").classList.remove("stale");
    $("error").hidden = true;
  } catch (error) {
    $("live").classList.add("stale");
    $("error").hidden = false;
    $("error").textContent = `could not refresh: ${error.message}`;
  } finally {
    setTimeout(poll, POLL_MS);  // the next poll starts only once this one has finished
  }
}

poll();
