// What every section of the dashboard and the projector's view share: each section names the JSON it reads and a
// function that draws it; each JSON is polled one request at a time, and every section reading it is redrawn.
// Every value is set as text, never as markup: a learner's name and what they sent are data.
"use strict";

const POLL_MS = 2000;
const $ = (id) => document.getElementById(id);
const feeds = new Map();  // url -> the draw functions of the sections that read it

// A change's or a section's JSON, or an Error that says what the server said (its error and hint) or that
// something else answered: a proxy's error page or a login page is not the class server's JSON.
async function answer(reply) {
  const body = await reply.json().catch(() => null);
  if (!reply.ok) {
    const said = body && body.error ? body.error : `the server answered ${reply.status}`;
    throw new Error(body && body.hint ? `${said} (${body.hint})` : said);
  }
  if (body === null) throw new Error(`the answer (${reply.status}) is not the class server's JSON: reload the page`);
  return body;
}

function section(url, draw) {
  if (!feeds.has(url)) feeds.set(url, []);
  feeds.get(url).push(draw);
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

// A redraw replaces a table's rows every poll: the keyboard's place in them (a learner's link) stays where it was
// instead of falling back to the top of the page.
function redraw(body, rows) {
  const focused = body.contains(document.activeElement) ? document.activeElement : null;
  const row = focused && focused.closest("tr");
  const place = row ? Array.from(row.querySelectorAll(focused.tagName)).indexOf(focused) : -1;
  body.replaceChildren(...rows);
  const again = row && rows.find((one) => one.dataset.learner === row.dataset.learner);
  const target = again && again.querySelectorAll(focused.tagName)[place];
  if (target) target.focus({ preventScroll: true });
}

function when(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

function ago(seconds) {
  if (seconds === null || seconds === undefined) return "never";
  if (seconds < 60) return "just now";
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min ago`;
}

function live(refreshed) {
  $("live").classList.toggle("stale", !refreshed);
  $("live").textContent = refreshed ? "● live" : "● not refreshing";  // said in words, not only in colour
}

async function poll(url) {
  try {
    const reply = await fetch(url, { cache: "no-store" });
    if (!reply.ok) throw new Error(`the server answered ${reply.status}`);
    const data = await reply.json();
    for (const draw of feeds.get(url)) draw(data);
    live(true);
    $("error").hidden = true;
  } catch (error) {
    live(false);
    $("error").hidden = false;
    $("error").textContent = `could not refresh: ${error.message}`;
  } finally {
    setTimeout(() => poll(url), POLL_MS);  // the next poll starts only once this one has finished
  }
}

// Deferred scripts run in order before DOMContentLoaded: by then every section has said what it reads.
document.addEventListener("DOMContentLoaded", () => { for (const url of feeds.keys()) poll(url); });
