// The dashboard's broadcast section: the instructor sends one event to every learner's bin (api/broadcasts),
// then watches each learner's copy, attempt by attempt, one request at a time, until every copy has ended.
// Every value is set as text, never as markup: names and what the bins answered are data. $, section() and
// answer() are sections.js's; the learners to choose from follow api/class, as learners are added or renamed.
"use strict";

(() => {
  const WATCH_MS = 500;
  let options = null;
  let shown = null;  // the broadcast on screen: {id, version}
  let timer = null;

  function fail(message) {
    $("broadcast-error").hidden = !message;
    $("broadcast-error").textContent = message || "";
  }

  function option(select, value, text) {
    const item = document.createElement("option");
    item.value = value;
    item.textContent = text;
    select.appendChild(item);
    return item;
  }

  function fillEvents() {
    const provider = options.providers.find((one) => one.name === $("broadcast-provider").value);
    $("broadcast-event").replaceChildren();
    provider.event_types.forEach((type) => option($("broadcast-event"), type, type));
    $("broadcast-event").value = provider.first_event;
    $("broadcast-provider").title = provider.retries;
  }

  function fillLearners(data) {
    const select = $("broadcast-learner");
    const names = data.learners.map((learner) => learner.name);
    if (names.join("\n") === Array.from(select.options, (item) => item.value).slice(1).join("\n")) return;
    const chosen = select.value;
    select.replaceChildren(new Option("every learner", ""), ...names.map((name) => new Option(name, name)));
    select.value = names.includes(chosen) ? chosen : "";
    label();
  }

  function label() {
    const learner = $("broadcast-learner").value;
    $("broadcast-send").textContent = learner ? `Send to ${learner}` : "Send to every learner";
  }

  function outcome(copy) {
    if (copy.outcome === "gave up") return { text: `gave up (${copy.status})`, style: "bad" };
    if (copy.outcome === "delivered") return { text: "delivered", style: "ok" };
    if (copy.outcome === "waiting") return { text: "waiting for room in the bin", style: "pending" };
    return { text: copy.outcome === "retrying" ? "still retrying" : "sending", style: "pending" };
  }

  function row(copy) {
    const tr = document.createElement("tr");
    tr.dataset.learner = copy.learner;
    const name = document.createElement("td");
    name.textContent = copy.learner;
    name.title = `signed with ${copy.signed_with}`;
    const state = document.createElement("td");
    const { text, style } = outcome(copy);
    state.textContent = text;
    state.className = `outcome ${style}`;
    if (copy.note) state.title = copy.note;
    const tries = document.createElement("td");
    tries.className = "attempts";
    for (const attempt of copy.attempts) {
      const span = document.createElement("span");
      span.className = `attempt ${attempt.status >= 200 && attempt.status < 300 ? "ok" : "bad"}`;
      span.textContent = `#${attempt.attempt} ${attempt.status || "no answer"} at ${attempt.at}`;
      span.title = `${attempt.outcome} (${attempt.elapsed_ms} ms)${attempt.answer ? `\nthe bin answered: ${attempt.answer}` : ""}`;
      tries.append(span, " ");  // read as words, copied as words
    }
    const next = document.createElement("td");
    next.textContent = copy.next || "";
    tr.append(name, state, tries, next);
    return tr;
  }

  function draw(broadcast) {
    const counts = broadcast.counts;
    const event = `${broadcast.title} ${broadcast.event_type}${broadcast.event_id ? ` (${broadcast.event_id})` : ""}`;
    const tally = ["delivered", "retrying", "waiting", "sending", "gave up"]
      .filter((word) => counts[word]).map((word) => `${counts[word]} ${word}`).join(", ");
    $("broadcast-status").textContent = `Broadcast ${broadcast.id}: ${event} to ${broadcast.learners} ` +
      `bin(s) at /hooks/${broadcast.endpoint}: ${tally}${broadcast.done ? "; done" : "…"}`;
    const policy = broadcast.policy;
    const replay = policy.attempts > 1 ? `, replayed ${broadcast.speed}× faster` : ", no retries";
    $("broadcast-schedule").textContent = `${policy.name}: attempts at ${policy.schedule.join(", ")}${replay}; ` +
      `each waits up to ${Array.isArray(policy.timeout) ? policy.timeout.join(" s + ") : policy.timeout} s.` +
      (policy.assumption ? ` Assumption: ${policy.assumption}.` : "") + (policy.note ? ` Note: ${policy.note}.` : "");
    $("broadcast-copies").replaceChildren(...broadcast.copies.map(row));
    $("broadcast-table").hidden = false;
  }

  async function watch(id) {
    clearTimeout(timer);
    if (!shown || shown.id !== id) shown = { id, version: null };
    let done = false;
    try {
      const query = shown.version === null ? "" : `?version=${shown.version}`;
      const broadcast = await answer(await fetch(`api/broadcasts/${id}${query}`, { cache: "no-store" }));
      if (shown.id !== id) return;  // another broadcast was picked meanwhile
      if (!broadcast.unchanged) {
        shown.version = broadcast.version;
        draw(broadcast);
        done = broadcast.done;
      }
      fail(null);
    } catch (error) {
      fail(`could not read broadcast ${id}: ${error.message}`);
    }
    if (!done && shown.id === id) timer = setTimeout(() => watch(id), WATCH_MS);  // one request at a time
    if (done) list().catch(() => {});  // the picker drops "(running)"
  }

  async function list() {
    const { broadcasts } = await answer(await fetch("api/broadcasts", { cache: "no-store" }));
    const pick = $("broadcast-pick");
    pick.replaceChildren();
    broadcasts.slice().reverse().forEach((one) =>
      option(pick, one.id, `${one.id}: ${one.title} ${one.event_type}${one.done ? "" : " (running)"}`));
    $("broadcast-pick-label").hidden = broadcasts.length === 0;
    if (shown) pick.value = String(shown.id);
    return broadcasts;
  }

  async function send(submitted) {
    submitted.preventDefault();
    fail(null);
    const asked = { provider: $("broadcast-provider").value, event_type: $("broadcast-event").value,
                    endpoint: $("broadcast-endpoint").value.trim() || options.endpoint };
    if ($("broadcast-learner").value) asked.learner = $("broadcast-learner").value;
    $("broadcast-send").disabled = true;
    try {
      const started = await answer(await fetch("api/broadcasts", {
        method: "POST", headers: { "Content-Type": "application/json", "X-Webhooklab": "1" },
        body: JSON.stringify(asked) }));
      shown = { id: started.id, version: null };
      await list();
      watch(started.id);
    } catch (error) {
      fail(`not sent: ${error.message}`);
    } finally {
      $("broadcast-send").disabled = false;
    }
  }

  async function start() {
    try {
      options = await answer(await fetch("api/broadcasts/options", { cache: "no-store" }));
    } catch (error) {
      fail(`the broadcast form could not load: ${error.message}`);
      return;
    }
    options.providers.forEach((one) => option($("broadcast-provider"), one.name, one.title));
    if (options.providers.some((one) => one.name === "stripe")) $("broadcast-provider").value = "stripe";
    fillEvents();
    $("broadcast-endpoint").value = options.endpoint;
    fillLearners({ learners: options.learners.map((name) => ({ name })) });
    $("broadcast-provider").addEventListener("change", fillEvents);
    $("broadcast-learner").addEventListener("change", label);
    $("broadcast-pick").addEventListener("change", () => watch(Number($("broadcast-pick").value)));
    $("broadcast-form").addEventListener("submit", send);
    try {
      const broadcasts = await list();
      if (broadcasts.length) watch(broadcasts[broadcasts.length - 1].id);
    } catch (error) {
      fail(`could not list the broadcasts: ${error.message}`);
    }
  }

  section("api/class", fillLearners);
  document.addEventListener("DOMContentLoaded", start);
})();
