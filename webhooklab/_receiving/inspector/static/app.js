// The inspector page: a live list of captured requests (a listbox, one tab stop) and the detail of one.
// Every value that came from a request is put on the page with textContent: it is data, never markup.
"use strict";

const state = { lastId: 0, anchor: 0, stable: 0, total: 0, live: [], pages: new Map(), pending: new Set(),
                fresh: new Set(), generation: 0, rowHeight: 27, frame: 0, endpointsAt: 0, endpointsDue: 0,
                selected: null, active: 0, activate: null, origins: new Map(), arrivals: 0, announceDue: 0 };

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

function clock(time) {
  const when = new Date(time);
  return [when.getHours(), when.getMinutes(), when.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

function cell(value, column) {
  const td = el("td", value, column);
  td.setAttribute("role", "none");
  return td;
}

function row(event, index) {
  const tr = document.createElement("tr");
  tr.dataset.id = event.id;
  tr.id = `request-${event.id}`;
  tr.setAttribute("role", "option");
  tr.setAttribute("aria-posinset", index + 1);
  tr.setAttribute("aria-setsize", size());
  tr.setAttribute("aria-selected", String(event.id === state.selected));
  const what = cell(event.event_type || "", "c-event"); // the event type first: it tells rows apart, the provider less
  if (event.provider) what.appendChild(el("span", `${event.event_type ? " · " : ""}${event.provider}`, "muted"));
  const verdict = cell(null, "c-verdict");
  verdict.appendChild(verdictMark(event.verified));
  const status = cell(null, "c-status");
  status.append(el("span", "status ", "visually-hidden"), statusBadge(event.status));
  const time = cell(clock(event.time), "c-time");
  time.title = event.time;
  const bytes = cell(event.size, "c-size");
  bytes.appendChild(el("span", " bytes", "visually-hidden"));
  const number = cell(event.id, "c-id");
  number.prepend(el("span", "request ", "visually-hidden"));
  // The row's name is its cells' text (with words for the marks), so what a screen reader says is what shows.
  tr.append(verdict, status, time, cell(event.endpoint, "c-endpoint"), what,
            cell(event.method, "c-method"), bytes, number);
  if (event.id === state.selected) tr.classList.add("selected");
  if (index === state.active) tr.classList.add("active");
  if (state.fresh.has(event.id)) tr.classList.add("new");
  tr.addEventListener("click", () => { state.active = index; select(event.id); });
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
  state.active = 0;
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
  const had = size();
  state.live.push(...events);
  state.lastId = events[events.length - 1].id;
  state.fresh = new Set(events.map((event) => event.id));
  if (had) state.active += events.length; // the request the keyboard is on stays the one it is on
  const activate = events.findIndex((event) => event.id === state.activate);
  if (activate >= 0) state.active = events.length - 1 - activate; // a resent request, opened already
  announce(events.length);
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
      fragment.appendChild(row(event, index));
    } else {
      const tr = el("tr", null, index === state.active ? "loading active" : "loading");
      tr.id = `request-at-${index}`;
      tr.setAttribute("role", "option");
      tr.setAttribute("aria-selected", "false");
      tr.appendChild(cell("…", "c-verdict"));
      fragment.appendChild(tr);
    }
  }
  $("rows").replaceChildren(fragment);
  const active = $("rows").querySelector("tr.active");
  if (active) $("rows").setAttribute("aria-activedescendant", active.id);
  else $("rows").removeAttribute("aria-activedescendant");
  const drawn = $("rows").firstElementChild;
  if (drawn) state.rowHeight = drawn.getBoundingClientRect().height || state.rowHeight;
  $("pad-above").style.height = `${first * state.rowHeight}px`;
  $("pad-below").style.height = `${(size() - last) * state.rowHeight}px`;
  showCount(state.total);
}

function showCount(total) {
  $("count").textContent = `${total} request(s)`;
  $("empty").hidden = size() > 0;
  $("rows").tabIndex = size() > 0 ? 0 : -1; // an empty list is no stop on the way
}

function updateExports() {
  const params = filterParams().toString();
  for (const kind of ["json", "jsonl", "csv", "har"]) {
    $(`export-${kind}`).href = `api/export.${kind}${params ? "?" + params : ""}`;
  }
}

// A polite note of what arrived, at most every 2 s, so a burst is one sentence and focus stays where it is.
function announce(count) {
  state.arrivals += count;
  if (state.announceDue) return;
  state.announceDue = setTimeout(() => {
    const n = state.arrivals;
    $("announce").textContent = `${n} new request${n === 1 ? "" : "s"}`;
    Object.assign(state, { arrivals: 0, announceDue: 0 });
  }, 2000);
}

function select(id, options) {
  state.selected = id;
  for (const tr of $("rows").children) {
    const chosen = Number(tr.dataset.id) === id;
    tr.classList.toggle("selected", chosen);
    tr.setAttribute("aria-selected", String(chosen));
  }
  return showDetail(id, options);
}

function openResent(id) {
  state.activate = id; // or, if the poll brought it already, the keyboard's row is it now
  const place = state.live.findIndex((event) => event.id === id);
  if (place >= 0) state.active = state.live.length - 1 - place;
  render();
  return select(id, { focus: true }); // the form that had focus is gone: its heading is where the reader is now
}

// The keys of a listbox (WAI-ARIA Authoring Practices): the list is one tab stop and its active row is
// aria-activedescendant. Arrows, Home, End and the page keys move it, scrolling the virtual list so that its row is
// drawn. Enter or Space opens the request and brings focus to its heading, so Tab goes straight on to its actions;
// Escape in the detail brings focus back to the list, on the same row.
function move(key) {
  const list = $("list");
  const page = Math.max(1, Math.floor(list.clientHeight / state.rowHeight) - 2);
  const steps = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
  state.active = Math.max(0, Math.min(size() - 1, state.active + steps[key]));
  const heading = list.querySelector("thead").getBoundingClientRect().height;
  const top = heading + state.active * state.rowHeight;
  if (top - heading < list.scrollTop) list.scrollTop = top - heading;
  else if (top + state.rowHeight > list.scrollTop + list.clientHeight) {
    list.scrollTop = top + state.rowHeight - list.clientHeight;
  }
  draw(); // now, not at the next frame: the active row must be on the page before anything reads it
}

function onListKey(event) {
  if (["ArrowDown", "ArrowUp", "PageDown", "PageUp", "Home", "End"].includes(event.key)) {
    event.preventDefault();
    if (size()) move(event.key);
  } else if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    const chosen = at(state.active);
    if (chosen) select(chosen.id, { focus: true });
  }
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
  $("rows").addEventListener("keydown", onListKey);
  $("detail").addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) $("rows").focus();
  });
  $("skip").addEventListener("click", (event) => {
    event.preventDefault();
    $("rows").focus();
  });
  window.addEventListener("resize", render);
  load().finally(() => setTimeout(poll, 500));
  loadEndpoints();
}

document.addEventListener("DOMContentLoaded", start);
