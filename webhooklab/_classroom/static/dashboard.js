// The instructor's dashboard, its first section: every bin's counts, challenge and share of the server (api/class).
"use strict";

function drawClass(data) {
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
    const relay = learner.relay;  // the learner's notebook behind the bin: connected, lost, or none yet
    const said = {connected: "connected", lost: "not connected", none: "—"}[relay.state];
    const notebook = cell(row, relay.forwarded ? `${said}, ${relay.answered} answered` : said, relay.state === "lost" ? "bad" : "");
    notebook.title = relay.seen ? `last asked for requests at ${when(new Date(relay.seen * 1000).toISOString())}` : "";
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
  redraw($("learners"), rows);
  $("summary").textContent = `${data.learners.length} learners, ${data.events} events`;
}

section("api/class", drawClass);
