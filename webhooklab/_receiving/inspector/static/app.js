// The inspector page: a live list of captured requests and the detail of one.
// Every value that came from a request is put on the page with textContent: it is data, never markup.
"use strict";

const state = { lastId: 0, anchor: 0, stable: 0, total: 0, live: [], pages: new Map(), pending: new Set(),
                fresh: new Set(), generation: 0, rowHeight: 27, frame: 0, endpointsAt: 0, endpointsDue: 0,
                selected: null };
const $ = (id) => document.getElementById(id);

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function getJSON(url, options = {}) {
  // The server makes changes only for requests with this header, which a page of another site cannot send.
  const headers = { "X-Webhooklab": "1", ...(options.headers || {}) };
  const reply = await fetch(url, { ...options, headers });
  // Not JSON: a proxy or a hub answered instead (its error page, or a login page once a session has ended).
  const body = await reply.json().catch(() => {
    throw new Error(`the answer (${reply.status}) is not the receiver's JSON: is it still running? Reload the page`);
  });
  if (!reply.ok) throw new Error(body.error || reply.statusText);
  return body;
}

function filterParams() {
  const params = new URLSearchParams();
  const pairs = [["endpoint", "f-endpoint"], ["provider", "f-provider"], ["event_type", "f-type"],
                 ["verified", "f-verified"], ["q", "f-q"]];
  for (const [name, id] of pairs) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

function verdictMark(verified) {
  if (verified === true) return el("span", "✓", "ok");
  if (verified === false) return el("span", "✗", "bad");
  return el("span", "–", "muted");
}

function row(event) {
  const tr = document.createElement("tr");
  tr.dataset.id = event.id;
  const time = new Date(event.time).toISOString().slice(11, 23);
  const cells = [event.id, time, event.endpoint, event.method, event.provider || "", event.event_type || "",
                 event.status, event.size];
  for (const value of cells) tr.appendChild(el("td", value));
  tr.children[6].className = event.status >= 200 && event.status < 300 ? "ok" : "bad";
  const verdict = el("td");
  verdict.appendChild(verdictMark(event.verified));
  tr.appendChild(verdict);
  if (event.id === state.selected) tr.classList.add("selected");
  if (state.fresh.has(event.id)) tr.classList.add("new");
  tr.addEventListener("click", () => select(event.id));
  return tr;
}

// The list holds every event the filters select, newest first, and puts on the page only the rows in view.
// `live` are the events that arrived since the page loaded (ids above `anchor`), in the order they came;
// below them, the events the page found when it loaded, fetched PAGE_ROWS at a time as they scroll into view.
const PAGE_ROWS = 100;
const LIVE_BATCH = 500; // events one poll asks for; a burst is read in several polls, one after another
const OVERSCAN = 10; // rows drawn above and below the view, so a scroll never shows a blank

async function load() {
  const generation = ++state.generation;
  const params = filterParams();
  params.set("newest", "1");
  params.set("limit", PAGE_ROWS);
  const listing = await getJSON(`api/events?${params}`);
  if (generation !== state.generation) return; // a newer filter won
  Object.assign(state, { anchor: listing.events.length ? listing.events[0].id : 0, stable: listing.total,
                         live: [], pages: new Map([[0, listing.events]]), pending: new Set(), total: listing.total });
  state.lastId = state.anchor;
  $("list").scrollTop = 0;
  render();
  updateExports();
}

async function poll() {
  let more = false;
  try {
    const generation = state.generation;
    const params = filterParams();
    params.set("after", state.lastId);
    params.set("limit", LIVE_BATCH);
    const listing = await getJSON(`api/events?${params}`);
    if (generation === state.generation) {
      const fresh = listing.events.filter((event) => event.id > state.lastId); // each id once, whatever happens
      if (fresh.length) arrived(fresh);
      more = listing.has_more;
      state.total = listing.total;
      // Fewer (or more) than the page holds: the store was cleared, or another process wrote to it. Start again.
      if (!more && listing.total !== state.live.length + state.stable) await load();
      else if (fresh.length) render();
    }
    $("live").classList.remove("stale");
  } catch (error) {
    $("live").classList.add("stale");
  } finally {
    setTimeout(poll, more ? 0 : 500); // never two at once: the next poll starts when this one has ended
  }
}

function arrived(events) {
  const list = $("list");
  if (list.scrollTop > 0) list.scrollTop += events.length * state.rowHeight; // keep the rows in view where they are
  state.live.push(...events);
  state.lastId = events[events.length - 1].id;
  state.fresh = new Set(events.map((event) => event.id));
  if (!state.endpointsDue) { // the endpoints' table at most every 2 s, however fast events come
    state.endpointsDue = setTimeout(() => { state.endpointsDue = 0; loadEndpoints(); },
                                    Math.max(0, state.endpointsAt + 2000 - Date.now()));
  }
}

function size() {
  return state.live.length + state.stable;
}

function at(index) {
  // The event at a place in the list (0 is the newest), or undefined while its page is on its way.
  if (index < state.live.length) return state.live[state.live.length - 1 - index];
  const place = index - state.live.length;
  const page = state.pages.get(Math.floor(place / PAGE_ROWS));
  if (!page) fetchPage(Math.floor(place / PAGE_ROWS));
  return page && page[place % PAGE_ROWS];
}

async function fetchPage(number) {
  if (state.pending.has(number) || state.pending.size >= 3) return;
  const generation = state.generation;
  state.pending.add(number);
  try {
    const params = filterParams();
    for (const [name, value] of [["newest", "1"], ["before", state.anchor + 1], ["limit", PAGE_ROWS],
                                 ["offset", number * PAGE_ROWS]]) params.set(name, value);
    const listing = await getJSON(`api/events?${params}`);
    if (generation !== state.generation) return;
    state.pages.set(number, listing.events);
  } catch (error) {
    $("live").classList.add("stale"); // the rows stay "…" until the next scroll asks again
    return;
  } finally {
    if (generation === state.generation) state.pending.delete(number);
  }
  render();
}

function render() {
  cancelAnimationFrame(state.frame);
  state.frame = requestAnimationFrame(draw);
}

function draw() {
  const list = $("list");
  const heading = list.querySelector("thead").getBoundingClientRect().height;
  const first = Math.max(0, Math.floor((list.scrollTop - heading) / state.rowHeight) - OVERSCAN);
  const last = Math.min(size(), first + Math.ceil(list.clientHeight / state.rowHeight) + 2 * OVERSCAN);
  const fragment = document.createDocumentFragment();
  for (let index = first; index < last; index++) {
    const event = at(index);
    if (event) {
      fragment.appendChild(row(event));
    } else {
      const tr = el("tr", null, "loading");
      tr.appendChild(el("td", "…"));
      fragment.appendChild(tr);
    }
  }
  $("rows").replaceChildren(fragment);
  const drawn = $("rows").firstElementChild;
  if (drawn) state.rowHeight = drawn.getBoundingClientRect().height || state.rowHeight;
  $("pad-above").style.height = `${first * state.rowHeight}px`;
  $("pad-below").style.height = `${(size() - last) * state.rowHeight}px`;
  showCount(state.total);
}

function showCount(total) {
  $("count").textContent = `${total} request(s)`;
  $("empty").hidden = size() > 0;
}

function updateExports() {
  const params = filterParams().toString();
  for (const kind of ["json", "jsonl", "csv", "har"]) {
    $(`export-${kind}`).href = `api/export.${kind}${params ? "?" + params : ""}`;
  }
}

function table(headings, rows) {
  const t = document.createElement("table");
  const head = document.createElement("tr");
  for (const h of headings) head.appendChild(el("th", h));
  t.appendChild(head);
  for (const cells of rows) {
    const tr = document.createElement("tr");
    for (const value of cells) tr.appendChild(el("td", value, "mono"));
    t.appendChild(tr);
  }
  return t;
}

function bytesOf(base64) {
  const raw = atob(base64);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

function hexView(bytes) {
  const lines = [];
  for (let offset = 0; offset < bytes.length && offset < 4096; offset += 16) {
    const chunk = Array.from(bytes.slice(offset, offset + 16));
    const hex = chunk.map((b) => b.toString(16).padStart(2, "0")).join(" ");
    const ascii = chunk.map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : ".")).join("");
    lines.push(`${offset.toString(16).padStart(8, "0")}  ${hex.padEnd(47)}  ${ascii}`);
  }
  if (bytes.length > 4096) lines.push(`… ${bytes.length} bytes in all`);
  return lines.join("\n");
}

function bodyView(event) {
  if (event.json !== null && event.json !== undefined) return el("pre", JSON.stringify(event.json, null, 2));
  if (event.body_text !== null && event.body_text !== undefined) {
    return el("pre", event.body_text === "" ? "(empty body)" : event.body_text);
  }
  const pre = el("pre", hexView(bytesOf(event.body_base64)));
  pre.title = "not text: shown as hex";
  return pre;
}

function verdictView(explanation) {
  if (!explanation) {
    return el("div", "No secret is set for this endpoint, so the signature was not checked. " +
                     "Start the receiver with secrets={endpoint: secret}.", "verdict none");
  }
  const box = el("div", null, `verdict ${explanation.ok ? "ok" : "bad"}`);
  const title = explanation.ok ? `${explanation.provider} signature valid`
                               : `${explanation.provider} signature invalid: ${explanation.reason}`;
  box.appendChild(el("strong", title));
  box.appendChild(el("p", explanation.message));
  if (explanation.steps.length) box.appendChild(table(["step", "value"], explanation.steps));
  return box;
}

function replayForm(event) {
  const form = el("div", null, "actions");
  const url = el("input");
  url.type = "text";
  url.value = "";  // empty: to this receiver itself, wherever the page is shown from (a proxy, a hub)
  url.placeholder = `this receiver's ${event.path}, or another URL`;
  url.setAttribute("aria-label", "replay to URL");
  const resign = el("input");
  resign.type = "checkbox";
  resign.id = "resign";
  const label = el("label", " re-sign with secret");
  label.prepend(resign);
  const secret = el("input");
  secret.type = "text";
  secret.placeholder = "secret";
  secret.setAttribute("aria-label", "secret");
  const button = el("button", "Replay");
  const result = el("span", "", "muted");
  button.addEventListener("click", async () => {
    result.textContent = "sending…";
    try {
      const reply = await getJSON(`api/events/${event.id}/replay`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ url: url.value, resign: resign.checked, secret: secret.value }),
      });
      result.textContent = reply.error ? `failed: ${reply.error}` : `answered ${reply.status}`;
    } catch (error) {
      result.textContent = `could not replay: ${error.message}`;
    }
  });
  form.append(url, label, secret, button, result);
  return form;
}

async function select(id) {
  state.selected = id;
  for (const tr of $("rows").children) tr.classList.toggle("selected", Number(tr.dataset.id) === id);
  const [event, inspection] = await Promise.all([getJSON(`api/events/${id}`), getJSON(`api/events/${id}/inspect`)]);
  if (state.selected !== id) return;
  const detail = $("detail");
  detail.replaceChildren();
  detail.appendChild(el("h2", `#${event.id} ${event.method} ${event.path}${event.query ? "?" + event.query : ""}`));
  detail.appendChild(el("p", `${event.time} · from ${event.client} · ${event.size} bytes · ` +
                             `${event.provider || "unknown provider"} ${event.event_type || ""}`, "muted"));
  if (event.note) detail.appendChild(el("p", event.note, "bad"));
  detail.appendChild(el("h3", "Signature"));
  detail.appendChild(verdictView(inspection.explanation));
  if (inspection.attempts.length > 1) {
    detail.appendChild(el("h3", `Every attempt of this delivery (${event.delivery_id})`));
    detail.appendChild(table(["#", "time", "status"],
      inspection.attempts.map((a) => [a.id, a.time, a.status])));
  }
  detail.appendChild(el("h3", "Headers, as sent"));
  detail.appendChild(table(["name", "value"], event.headers));
  detail.appendChild(el("h3", "Body"));
  detail.appendChild(bodyView(event));
  detail.appendChild(el("h3", `Response given: ${event.response.status}`));
  detail.appendChild(table(["name", "value"], event.response.headers));
  detail.appendChild(el("pre", event.response.body));
  detail.appendChild(el("h3", "Replay"));
  detail.appendChild(replayForm(event));
  detail.appendChild(el("h3", "As curl"));
  const curl = el("pre", inspection.curl);
  const copy = el("button", "Copy as curl");
  copy.addEventListener("click", () => navigator.clipboard.writeText(inspection.curl));
  detail.append(copy, curl);
}

async function loadEndpoints() {
  state.endpointsAt = Date.now();
  const { endpoints } = await getJSON("api/endpoints");
  const menu = $("f-endpoint");
  const chosen = menu.value;
  menu.replaceChildren(el("option", "all endpoints"));
  menu.firstChild.value = "";
  const rows = document.createDocumentFragment();
  for (const endpoint of endpoints) {
    const option = el("option", endpoint.endpoint);
    option.value = endpoint.endpoint;
    menu.appendChild(option);
    rows.appendChild(endpointRow(endpoint));
  }
  menu.value = chosen;
  $("endpoint-rows").replaceChildren(rows);
}

function endpointRow(endpoint) {
  const tr = document.createElement("tr");
  tr.append(el("td", endpoint.endpoint, "mono"), el("td", endpoint.events));
  const inputs = {};
  for (const [name, step] of [["status", 1], ["delay", 0.1], ["fail_first", 1]]) {
    const input = el("input");
    input.type = "number";
    input.step = step;
    input.value = endpoint[name];
    input.setAttribute("aria-label", `${endpoint.endpoint} ${name}`);
    inputs[name] = input;
    const td = el("td");
    td.appendChild(input);
    tr.appendChild(td);
  }
  const save = el("button", "Save");
  const result = el("span", "", "muted");
  save.addEventListener("click", async () => {
    try {
      await getJSON(`api/endpoints/${encodeURIComponent(endpoint.endpoint)}`, {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ status: Number(inputs.status.value), delay: Number(inputs.delay.value),
                               fail_first: Number(inputs.fail_first.value) }),
      });
      result.textContent = "saved";
    } catch (error) {
      result.textContent = error.message;
    }
  });
  const td = el("td");
  td.append(save, result);
  tr.appendChild(td);
  return tr;
}

function start() {
  $("hook-url").textContent = `${new URL("hooks/", document.baseURI)}<endpoint>`;  // under any proxy prefix
  let timer = null;
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("filters").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(load, 200);
  });
  $("list").addEventListener("scroll", render, { passive: true });
  window.addEventListener("resize", render);
  load().finally(() => setTimeout(poll, 500));
  loadEndpoints();
}

document.addEventListener("DOMContentLoaded", start);
