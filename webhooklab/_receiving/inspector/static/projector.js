// The receiver on the projector: how many requests came, how many were verified, failed or not checked, the
// latest few, and why the latest failure failed, in words. It reads the inspector's own API (api/events) with
// relative URLs, so it works under a proxy's prefix and on a class bin. Every value that came from a request is
// put on the page with textContent: it is data, never markup.
"use strict";

const ROWS = 5;  // the latest requests shown: what a room reads at a glance
const POLL_MS = 1000;
const state = { key: "", failureId: 0, events: [] };

const newest = (filter, limit) => getJSON(`api/events?newest=1&limit=${limit}${filter ? `&verified=${filter}` : ""}`,
                                           { cache: "no-store" });

function ago(iso) {
  const seconds = Math.max(0, Math.round((Date.now() + serverSkew - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds) || seconds < 5) return "just now";
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ago` : `${Math.floor(minutes / 60)} h ${minutes % 60} min ago`;
}

function about(event) {
  return [event.provider || "unknown provider", event.event_type].filter(Boolean).join(" ");
}

function drawRows() {
  const rows = state.events.map((event) => {
    const row = document.createElement("tr");
    row.dataset.id = event.id;
    const [mark, , kind, word] = verdictWords(event.verified);
    const ok = event.status >= 200 && event.status < 300;
    row.append(el("td", `${mark} ${word}`, kind), el("td", event.status, ok ? "ok" : "bad"), el("td", about(event)),
               el("td", event.endpoint, "mono"), el("td", ago(event.time)));
    return row;
  });
  $("latest").replaceChildren(...rows);
  $("latest-table").hidden = rows.length === 0;
  $("empty").hidden = rows.length > 0;
}

async function drawFailure(failures) {
  $("failed").textContent = failures.total;
  const event = failures.events[0];
  if (!event) {
    state.failureId = 0;
    $("failure").textContent = "None so far.";
    return;
  }
  if (event.id === state.failureId) return;
  const { explanation } = await getJSON(`api/events/${event.id}/inspect`, { cache: "no-store" });
  const why = explanation ? explanation.message : event.reason || "the signature did not match";
  $("failure").textContent = `#${event.id} ${about(event)} to ${event.endpoint}: ${why}`;
  state.failureId = event.id;
}

async function refresh() {
  const latest = await newest("", ROWS);
  state.events = latest.events;
  const key = `${latest.total} ${latest.events.length ? latest.events[0].id : 0}`;
  if (key !== state.key) {  // ids are never reused: the same total and newest id is the same store
    const [verified, failures, unchecked] = await Promise.all([newest("true", 1), newest("false", 1),
                                                               newest("unchecked", 1)]);
    $("received").textContent = latest.total;
    $("verified").textContent = verified.total;
    $("unchecked").textContent = unchecked.total;
    await drawFailure(failures);
    state.key = key;
  }
  drawRows();  // the times move on even when nothing came
}

function live(reached) {
  $("live").classList.toggle("stale", !reached);
  $("live").textContent = reached ? "● live" : "● not reaching the receiver";  // in words, not only in colour
}

async function poll() {
  try {
    await refresh();
    live(true);
  } catch (error) {
    live(false);
  } finally {
    setTimeout(poll, POLL_MS);  // never two at once: the next poll starts when this one has ended
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("hook-url").textContent = `${new URL("hooks/", document.baseURI)}<endpoint>`;  // under any proxy prefix
  poll();
});
