// The detail of one request: the verdict, the answer and the actions first, then everything as captured.
"use strict";

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
  const pre = el("pre", hexView(bytesOf(event.body_base64)), "hex");
  pre.title = "not text: shown as hex";
  return pre;
}

// The headline: whether the signature holds (and why not), and what the receiver answered.
function verdictView(event, explanation) {
  const kind = !explanation ? "none" : explanation.ok ? "ok" : "bad";
  const box = el("div", null, `verdict ${kind}`);
  const line = box.appendChild(el("p", null, "headline"));
  line.appendChild(verdictMark(explanation ? explanation.ok : null));
  if (!explanation) {
    line.appendChild(el("strong", "Signature not checked"));
    box.appendChild(el("p", "No secret is set for this endpoint, so the signature was not checked. " +
                            "Start the receiver with secrets={endpoint: secret}."));
  } else {
    line.appendChild(el("strong", explanation.ok ? `${explanation.provider} signature valid`
                                                 : `${explanation.provider} signature invalid: ${explanation.reason}`));
    box.appendChild(el("p", explanation.message));
  }
  const answer = line.appendChild(el("span", "response ", "answer"));
  answer.appendChild(statusBadge(event.response.status));
  return box;
}

function actions(event, inspection) {
  const bar = el("div", null, "actions");
  bar.setAttribute("role", "group");
  bar.setAttribute("aria-label", "Actions");
  const replay = el("button", "Replay");
  replay.type = "button";
  replay.title = "send it again exactly as captured";
  const target = el("input", null, "target");
  target.type = "text";
  target.value = ""; // empty: to this receiver itself, wherever the page is shown from (a proxy, a hub)
  target.placeholder = `to this receiver's ${event.path}, or another URL`;
  target.setAttribute("aria-label", "replay to URL");
  const edit = el("button", "Edit and resend");
  edit.type = "button";
  edit.setAttribute("aria-expanded", "false");
  const copy = el("button", "Copy as curl");
  copy.type = "button";
  const result = el("span", "", "result");
  result.setAttribute("role", "status");
  replay.addEventListener("click", async () => {
    result.textContent = "sending…";
    try {
      const reply = await postJSON(`api/events/${event.id}/replay`, { url: target.value.trim() });
      result.textContent = reply.error ? `failed: ${reply.error}` : `answered ${reply.status}`;
    } catch (error) {
      result.textContent = `could not replay: ${error.message}`;
    }
  });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(inspection.curl);
      result.textContent = "copied the curl command";
    } catch (error) {
      result.textContent = "could not copy: select the command under As curl";
    }
  });
  edit.addEventListener("click", () => toggleResend(event, edit, result));
  bar.append(replay, target, edit, copy, result);
  return bar;
}

function section(title, ...content) {
  const part = el("section", null, "part");
  part.append(el("h3", title), ...content);
  return part;
}

async function showDetail(id, { focus = false } = {}) {
  const [event, inspection] = await Promise.all([getJSON(`api/events/${id}`), getJSON(`api/events/${id}/inspect`)]);
  if (state.selected !== id) return;
  const detail = $("detail");
  const heading = el("h2", `#${event.id} ${event.method} ${event.path}${event.query ? "?" + event.query : ""}`);
  heading.tabIndex = -1; // Enter on a request brings focus here, so Tab next reaches its actions
  detail.replaceChildren(heading);
  detail.appendChild(el("p", `${event.time} · from ${event.client} · ${event.size} bytes · ` +
                             `${event.provider || "unknown provider"} ${event.event_type || ""}`, "muted"));
  const origin = state.origins.get(event.id);
  if (origin) detail.appendChild(comparisonSlot(origin, event.id));
  detail.appendChild(verdictView(event, inspection.explanation));
  if (event.note) detail.appendChild(el("p", event.note, "bad note"));
  detail.appendChild(actions(event, inspection));
  detail.appendChild(el("div", null, "resend-slot"));
  const explanation = inspection.explanation;
  if (explanation && explanation.steps.length) {
    detail.appendChild(section("Signature, step by step", table(["step", "value"], explanation.steps, "steps")));
  }
  if (inspection.attempts.length > 1) {
    detail.appendChild(section(`Every attempt of this delivery (${event.delivery_id})`,
      table(["#", "time", "status"], inspection.attempts.map((a) => [a.id, a.time, a.status]))));
  }
  detail.appendChild(section("Headers, as sent", table(["name", "value"], event.headers, "pairs")));
  detail.appendChild(section("Body", bodyView(event)));
  detail.appendChild(section(`Response given: ${event.response.status}`,
    table(["name", "value"], event.response.headers, "pairs"), el("pre", event.response.body || "(empty body)")));
  detail.appendChild(section("As curl", el("pre", inspection.curl)));
  if (focus) heading.focus();
}
