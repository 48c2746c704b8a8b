// Edit and resend: a form prefilled from the captured request, and what changed between it and the resent one.
"use strict";

const METHODS = ["POST", "PUT", "PATCH", "DELETE", "GET"];

function field(labelText, control, hint) {
  const wrap = el("div", null, "field");
  const label = el("label", labelText);
  label.htmlFor = control.id;
  wrap.append(label, control);
  if (hint) {
    const small = el("p", hint, "hint");
    small.id = `${control.id}-hint`;
    control.setAttribute("aria-describedby", small.id);
    wrap.appendChild(small);
  }
  return wrap;
}

function control(tag, id, value) {
  const node = el(tag);
  node.id = id;
  if (value !== undefined) node.value = value;
  return node;
}

function radio(value, text, checked) {
  const label = el("label", null, "choice");
  const input = el("input");
  Object.assign(input, { type: "radio", name: "signing", value, checked });
  label.append(input, ` ${text}`);
  return label;
}

function parseHeaders(text) {
  // One "Name: value" a line; a line without a colon is a mistake worth saying, not something to guess at.
  const pairs = [];
  for (const [index, line] of text.split("\n").entries()) {
    if (!line.trim()) continue;
    const colon = line.indexOf(":");
    if (colon < 1) throw new Error(`header line ${index + 1} needs "Name: value", got ${JSON.stringify(line)}`);
    pairs.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
  }
  return pairs;
}

function resendForm(event) {
  const form = el("form", null, "resend");
  form.setAttribute("aria-label", `Edit and resend #${event.id}`);
  const method = control("select", "r-method");
  for (const name of new Set([event.method, ...METHODS])) method.appendChild(el("option", name)).value = name;
  method.value = event.method;
  const url = control("input", "r-url", "");
  url.type = "text";
  url.placeholder = `this receiver's ${event.path}`;
  const headers = control("textarea", "r-headers", event.headers.map(([n, v]) => `${n}: ${v}`).join("\n"));
  headers.rows = Math.min(12, event.headers.length + 1);
  headers.spellcheck = false;
  form.append(el("h3", `Edit and resend #${event.id}`),
              field("Method", method), field("Target URL", url, "Empty: this receiver, the same path."),
              field("Headers, one Name: value a line", headers));
  const text = event.body_text;
  if (text === null || text === undefined) {
    form.appendChild(el("p", "The body is binary: it cannot be edited as text here, and is sent as captured.", "hint"));
  } else {
    const body = control("textarea", "r-body", text);
    body.rows = Math.min(16, text.split("\n").length + 1);
    body.spellcheck = false;
    form.appendChild(field("Body", body));
  }
  const signing = el("fieldset");
  const secret = control("input", "r-secret", "");
  Object.assign(secret, { type: "text", disabled: true, autocomplete: "off" });
  secret.setAttribute("aria-label", "the secret to sign with");
  const own = radio("secret", "re-sign with this secret:", false);
  own.appendChild(secret);
  signing.append(el("legend", "Signature"),
                 radio("keep", "keep the captured signature headers (an edited body will then fail verification)", true),
                 radio("resign", "re-sign with the endpoint's secret", false), own);
  signing.addEventListener("change", () => { secret.disabled = !own.firstChild.checked; });
  const send = el("button", "Send");
  send.type = "submit";
  const answer = el("p", "", "result");
  answer.setAttribute("role", "status");
  form.append(signing, send, answer);
  form.addEventListener("submit", (submitted) => {
    submitted.preventDefault();
    resend(event, form, answer);
  });
  return form;
}

function payloadOf(event, form) {
  const choice = form.elements.signing.value;
  const payload = { url: form.elements["r-url"].value.trim(), method: form.elements["r-method"].value,
                    headers: parseHeaders(form.elements["r-headers"].value) };
  const body = form.elements["r-body"];
  if (body) payload.body = body.value;
  if (choice !== "keep") payload.resign = true;
  if (choice === "secret") payload.secret = form.elements["r-secret"].value;
  return payload;
}

async function resend(event, form, answer) {
  answer.textContent = "sending…";
  try {
    const reply = await postJSON(`api/events/${event.id}/replay`, payloadOf(event, form));
    if (reply.error) {
      answer.textContent = `failed: ${reply.error}`;
      return;
    }
    answer.textContent = `answered ${reply.status}` + (reply.event_id ? `: opening #${reply.event_id}` : "");
    if (reply.event_id) {
      state.origins.set(reply.event_id, event.id);
      openResent(reply.event_id);
    }
  } catch (error) {
    answer.textContent = `could not send: ${error.message}`;
  }
}

function toggleResend(event, button, result) {
  const slot = $("detail").querySelector(".resend-slot");
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  slot.replaceChildren();
  if (!open) return;
  slot.appendChild(resendForm(event));
  slot.querySelector("select").focus(); // the form just opened: its first field, so typing edits it
  result.textContent = "";
}

// "Compared with #N": filled from the API once the new request's detail is on the page.
function comparisonSlot(origin, id) {
  const part = el("section", null, "compare");
  part.appendChild(el("h3", `Compared with #${origin}`));
  getJSON(`api/events/${origin}/compare/${id}`).then((diff) => part.append(...comparison(diff)))
    .catch((error) => part.appendChild(el("p", `The comparison is not available: ${error.message}`, "muted")));
  return part;
}

function change(kind, text) {
  const line = el("li", null, `change ${kind}`);
  line.append(el("span", kind === "same" ? " " : kind === "added" ? "+" : "−", "sign"), el("span", text));
  return line;
}

function comparison(diff) {
  const shown = [];
  const verdict = diff.verdict || {};
  const [, words, kind] = verdictWords(verdict.new);
  const headline = el("p", null, `headline ${kind}`);
  headline.append(verdictMark(verdict.new), el("strong", words));
  shown.push(headline);
  if (verdict.cause) shown.push(el("p", verdict.cause, "cause"));
  const changes = el("ul", null, "changes");
  for (const [name, pair] of [["method", diff.method], ["path", diff.path]]) {
    if (pair) changes.append(change("removed", `${name} ${pair.original}`), change("added", `${name} ${pair.new}`));
  }
  for (const header of diff.headers || []) {
    if (header.original !== null) changes.appendChild(change("removed", `${header.name}: ${header.original}`));
    if (header.new !== null) changes.appendChild(change("added", `${header.name}: ${header.new}`));
  }
  if (changes.children.length) shown.push(el("h4", "Request line and headers"), changes);
  const body = diff.body || { changed: false, lines: [] };
  if (!body.changed) {
    shown.push(el("p", "The body is the same.", "muted"));
  } else {
    const lines = el("ul", null, "changes body-diff");
    for (const line of body.lines) lines.appendChild(change(line.change, line.text));
    shown.push(el("h4", `Body (first difference at byte ${body.first_difference})`), lines);
    if (body.truncated) shown.push(el("p", "Only the start of the body is compared.", "muted"));
  }
  return shown;
}
