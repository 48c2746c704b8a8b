// What every script of the inspector page shares: building elements as text, and asking the receiver's API.
// Every value that came from a request is put on the page with textContent: it is data, never markup.
"use strict";

const $ = (id) => document.getElementById(id);
let serverSkew = 0; // the receiver's clock less this browser's, from its last answer: "how long ago" by its clock

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
  const date = Date.parse(reply.headers.get("Date") || "");
  if (!Number.isNaN(date)) serverSkew = date - Date.now();
  return body;
}

function postJSON(url, payload) {
  return getJSON(url, { method: "POST", headers: { "Content-Type": "application/json" },
                        body: JSON.stringify(payload) });
}

function table(headings, rows, className) {
  const t = el("table", null, className);
  const head = document.createElement("tr");
  for (const h of headings) {
    const th = el("th", h);
    th.scope = "col";
    head.appendChild(th);
  }
  t.appendChild(el("thead")).appendChild(head);
  const body = t.appendChild(el("tbody"));
  for (const cells of rows) {
    const tr = document.createElement("tr");
    cells.forEach((value, column) => tr.appendChild(el("td", value, column ? "value" : "name")));
    body.appendChild(tr);
  }
  return t;
}

// The signature verdict as a mark, the words a screen reader (and a tooltip) gives it, its style, and one word.
function verdictWords(verified) {
  if (verified === true) return ["✓", "signature verified", "ok", "verified"];
  if (verified === false) return ["✗", "signature failed", "bad", "failed"];
  return ["–", "signature not checked", "muted", "not checked"];
}

function verdictMark(verified) {
  const [mark, words, kind] = verdictWords(verified);
  const span = el("span", null, `mark ${kind}`);
  span.title = words;
  span.append(el("span", mark, null), el("span", words, "visually-hidden"));
  span.firstChild.setAttribute("aria-hidden", "true");
  return span;
}

function statusBadge(status) {
  return el("span", status, `status ${status >= 200 && status < 300 ? "ok" : "bad"}`);
}
