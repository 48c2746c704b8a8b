// The inspector page: a live list of captured requests and the detail of one.
// Every value that came from a request is put on the page with textContent: it is data, never markup.
"use strict";

const state = { lastId: 0, selected: null, loading: null };
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
  const body = await reply.json();
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
  tr.addEventListener("click", () => select(event.id));
  return tr;
}

async function load() {
  const params = filterParams();
  params.set("newest", "1");
  params.set("limit", "1000");
  const ticket = (state.loading = {});
  const listing = await getJSON(`api/events?${params}`);
  if (ticket !== state.loading) return; // a newer filter won
  const fragment = document.createDocumentFragment();
  for (const event of listing.events) fragment.appendChild(row(event));
  $("rows").replaceChildren(fragment);
  state.lastId = listing.events.length ? listing.events[0].id : Math.max(state.lastId, 0);
  showCount(listing.total);
  updateExports();
}

async function poll() {
  try {
    const params = filterParams();
    params.set("after", state.lastId);
    const listing = await getJSON(`api/events?${params}`);
    const rows = $("rows");
    for (const event of listing.events) {
      const tr = row(event);
      tr.classList.add("new");
      rows.insertBefore(tr, rows.firstChild);
      state.lastId = Math.max(state.lastId, event.id);
    }
    if (listing.events.length) {
      showCount(listing.total);
      loadEndpoints();
    }
    $("live").classList.remove("stale");
  } catch (error) {
    $("live").classList.add("stale");
  }
}

function showCount(total) {
  $("count").textContent = `${total} request(s)`;
  $("empty").hidden = $("rows").children.length > 0;
}

function updateExports() {
  const params = filterParams().toString();
  for (const kind of ["json", "csv", "har"]) {
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
  load();
  loadEndpoints();
  setInterval(poll, 500);
}

document.addEventListener("DOMContentLoaded", start);
