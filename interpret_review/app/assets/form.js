// The answer form of the review page: one component, built from the task's answer schema.
//
// - Every submit gets a client-made UUID and is written to localStorage before it is sent;
//   it leaves that queue only when the server says it is stored. A page that loads (after a
//   reload, a lost connection or a server restart) sends whatever is still queued, and the
//   server stores each client id once.
// - Unsent answers are kept as a draft per item in localStorage, so a reload keeps them.
// - The whole form works from the keyboard; the keys are listed under the form.
// - Text from the schema, the item or the server is set with textContent, never as HTML.

const RESERVED = { submit: "Enter", leave: "Escape", back: "[", next: "]", help: "?" };
const STILL_WAITING_MS = 4000;
const RETRY_MS = [5000, 15000, 60000]; // resend delays after the server could not store
const HOLD_MS = 4 * 60 * 1000; // while an item stays on screen, its lease is renewed this often
const SKIP_REASONS = ["I cannot tell from what is shown", "The item looks broken or empty",
  "Outside what I can judge", "Other"];

function uuid4() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16)); // also outside secure contexts
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function node(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") el.textContent = value;
    else if (key === "className") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

function kbd(key) {
  return key ? node("kbd", { text: key === " " ? "Space" : key }) : null;
}

function readJSON(key, fallback) {
  try {
    const text = localStorage.getItem(key);
    return text === null ? fallback : JSON.parse(text);
  } catch (e) {
    return fallback;
  }
}

function writeJSON(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch (e) {
    /* storage full or disabled: the server still gets the answer */
  }
}

const PER_TARGET = ["ratings", "predictions"];

// What a per-target field answers for: the shown maps, or the shown examples by number.
function targetsOfItem(f, it) {
  if (f.type === "ratings") return (it.maps || []).map((m, i) => ({ key: m, label: m, num: i + 1 }));
  return (it.examples || []).map((e) => ({ key: String(e.row), label: "", num: e.name }));
}

function emptyValue(field) {
  switch (field.type) {
    case "text": return "";
    case "choice": case "scale": case "boolean": return null;
    case "ratings": case "predictions": return {};
    default: return [];
  }
}

function isEmpty(value) {
  return value === null || value === undefined || value === "" ||
    (Array.isArray(value) && value.length === 0) ||
    (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0);
}

export function render({ model, el }) {
  const form = node("form", { className: "ir-form", "aria-label": "Your answer", novalidate: true });
  const state = { draft: {}, shownAt: performance.now(), cursor: 0, saving: null, flash: null,
    retries: 0, retryTimer: null };
  const inputs = {}; // field name -> {focus(), set(value), el}
  let uid = 0;

  // One queue per project and account (entries name their task); one draft per task and item.
  const pendingKey = () => `${model.storage_key}:pending`;
  const draftKey = (key, task = model.task) => `${model.storage_key}:draft:${task}:${key}`;
  // the item key of a queued answer (answers queued by an earlier page call it "address")
  const keyOf = (entry) => entry.key ?? entry.address;
  const fields = () => (model.schema && model.schema.fields) || [];
  const item = () => model.item || {};
  const targetsOf = (f) => targetsOfItem(f, item());

  // -- the queue of unconfirmed submits -------------------------------------------------
  function pending() { return readJSON(pendingKey(), []); }
  function dropPending(clientId) {
    const all = pending();
    const entry = all.find((e) => e.client_id === clientId) || null;
    writeJSON(pendingKey(), all.filter((e) => e.client_id !== clientId));
    return entry;
  }
  function sendPending() {
    for (const entry of pending()) model.send_msg({ type: "submit", ...entry });
  }
  function retryLater() {
    if (state.retryTimer !== null) return;
    const delay = RETRY_MS[Math.min(state.retries, RETRY_MS.length - 1)];
    state.retries += 1;
    state.retryTimer = setTimeout(() => {
      state.retryTimer = null;
      if (form.isConnected) sendPending();
    }, delay);
  }

  // -- status line --------------------------------------------------------------------
  const status = node("div", { className: "status", role: "status", "aria-live": "polite" });
  function say(text, kind = "info") {
    status.textContent = text || "";
    status.className = `status ${kind}`;
    status.setAttribute("role", kind === "error" ? "alert" : "status");
  }

  // -- answers ------------------------------------------------------------------------
  function setAnswer(name, value) {
    state.draft[name] = value;
    const key = item().key;
    if (key) writeJSON(draftKey(key), state.draft);
    if (inputs[name]) inputs[name].set(value);
    form.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  }

  function problems() {
    const out = [];
    for (const f of fields()) {
      const value = state.draft[f.name];
      if (PER_TARGET.includes(f.type) && f.required) {
        const missing = targetsOf(f).filter((t) => !value || !value[t.key]).map((t) => t.label || t.num);
        const what = f.type === "ratings" ? "Rate every map" : "Predict every example";
        if (missing.length) out.push([f.name, `${what} (missing: ${missing.join(", ")}).`]);
      } else if (f.required && isEmpty(typeof value === "string" ? value.trim() : value)) {
        out.push([f.name, `"${f.label}" is required.`]);
      }
    }
    return out;
  }

  function submit() {
    const it = item();
    if (!it.key || state.saving) return; // one submit at a time: no double Enter
    const found = problems();
    if (found.length) {
      say(found.map((p) => p[1]).join(" "), "error");
      for (const [name] of found) inputs[name] && inputs[name].el.classList.add("invalid");
      inputs[found[0][0]] && inputs[found[0][0]].focus();
      return;
    }
    const entry = {
      client_id: uuid4(),
      task: model.task,
      key: it.key,
      answers: JSON.parse(JSON.stringify(state.draft)),
      supersedes: it.judgment || null,
      duration_ms: Math.round(performance.now() - state.shownAt),
      submitted_at: Date.now(),
    };
    // a newer answer to the same item replaces one still waiting in the queue
    const others = pending().filter((e) => !(e.task === entry.task && keyOf(e) === entry.key));
    writeJSON(pendingKey(), [...others, entry]);
    state.saving = entry.client_id;
    send.disabled = true;
    say("Saving…");
    globalThis.__irSubmitAt = performance.now(); // read by benchmarks/bench_app.py
    model.send_msg({ type: "submit", ...entry });
    setTimeout(() => {
      if (state.saving === entry.client_id) {
        say("Still waiting for the server. Your answer is kept in this browser and is sent " +
            "again when you reload the page.", "warn");
      }
    }, STILL_WAITING_MS);
  }

  model.on("msg:custom", (msg) => {
    if (msg && msg.type === "skipped") { say("Skipped: the item goes to someone else.", "ok"); return; }
    if (msg && msg.type === "skip-refused") { say(msg.message, "error"); return; }
    if (!msg || !msg.client_id) return;
    const mine = state.saving === msg.client_id;
    const current = keyOf(msg) === item().key && (msg.task || model.task) === model.task;
    if (mine) { state.saving = null; send.disabled = !item().key; }
    if (msg.type === "failed") { // not stored now: keep it queued and send it again later
      say(msg.message, "warn");
      retryLater();
      return;
    }
    const entry = dropPending(msg.client_id);
    if (msg.type === "stored") {
      state.retries = 0;
      (globalThis.__irStored ||= []).push(msg.client_id); // read by tests and benchmarks
      // the draft this answer came from is no longer needed (unless edited since)
      if (entry) {
        const key = draftKey(keyOf(entry), entry.task);
        if (mine || JSON.stringify(readJSON(key, null)) === JSON.stringify(entry.answers)) {
          writeJSON(key, null);
          if (current && !mine) banner.textContent = "";
        }
      }
      state.flash = ["Saved ✓", "ok"];
      // an advancing ack may arrive before or after the next item: say it either way
      if (current || msg.advancing) say("Saved ✓", "ok");
      if (!msg.advancing && Number.isInteger(msg.answered)) showAnswered(msg.answered);
    } else if (msg.type === "rejected") {
      say(current ? msg.message : `An answer kept in this browser for ${keyOf(msg)} was refused: ${msg.message}`, "error");
    }
  });

  function showAnswered(count) {
    const text = header.querySelector(".answered");
    const bar = header.querySelector("progress");
    if (text) text.textContent = ` · ${count} answered`;
    if (bar) { bar.value = count; bar.setAttribute("aria-label", `${count} of ${item().total} answered`); }
  }

  // -- fields -------------------------------------------------------------------------
  function legend(f, key) {
    return node("legend", {}, node("span", { text: f.label }),
      f.required ? node("span", { className: "req", "aria-hidden": "true", text: " *" }) : null,
      key ? document.createTextNode(" ") : null, kbd(key));
  }

  function textField(f) {
    const id = `ir-f${++uid}`;
    const box = node("textarea", {
      id, rows: 2, maxlength: 2000, "aria-required": f.required ? "true" : null,
      "aria-describedby": f.help ? `${id}-help` : null, "data-field": f.name,
    });
    box.value = state.draft[f.name] || "";
    box.addEventListener("input", () => setAnswer(f.name, box.value));
    const wrap = node("div", { className: "field text" },
      node("label", { for: id }, node("span", { text: f.label }),
        f.required ? node("span", { className: "req", "aria-hidden": "true", text: " *" }) : null,
        f.key ? document.createTextNode(" ") : null, kbd(f.key)),
      box, f.help ? node("div", { id: `${id}-help`, className: "help", text: f.help }) : null);
    inputs[f.name] = { el: wrap, focus: () => box.focus(), set: (v) => { if (box.value !== v) box.value = v || ""; } };
    return wrap;
  }

  function optionGroup(f, options, type, isChecked, onChange) {
    const set = node("fieldset", { className: `field ${f.type}`, "data-field": f.name }, legend(f));
    const boxes = [];
    const group = `ir-g${++uid}`;
    for (const [value, text, key, title] of options) {
      const id = `ir-f${++uid}`;
      const input = node("input", { id, type, name: group, value: String(value) });
      input.checked = isChecked(value);
      input.addEventListener("change", () => onChange(value, input.checked));
      boxes.push([value, input]);
      set.append(node("label", { for: id, className: "option", title },
        input, node("span", { text }), key ? document.createTextNode(" ") : null, kbd(key)));
    }
    inputs[f.name] = {
      el: set,
      focus: () => boxes.length && boxes[0][1].focus(),
      set: () => { for (const [value, input] of boxes) input.checked = isChecked(value); },
    };
    return set;
  }

  function choiceField(f) {
    const values = f.type === "scale"
      ? Array.from({ length: f.max - f.min + 1 }, (_, i) => f.min + i)
      : f.type === "boolean" ? [true, false] : f.choices;
    const options = values.map((v, i) => [v, f.type === "boolean" ? (v ? "yes" : "no") : String(v),
      (f.shortcuts || [])[i] || ""]);
    return optionGroup(f, options, "radio", (v) => state.draft[f.name] === v,
      (v, on) => on && setAnswer(f.name, v));
  }

  function toggle(list, value) {
    const out = (list || []).slice();
    const at = out.indexOf(value);
    if (at >= 0) out.splice(at, 1); else out.push(value);
    return out;
  }

  function multiField(f) {
    const options = f.choices.map((c, i) => [c, c, (f.shortcuts || [])[i] || ""]);
    return optionGroup(f, options, "checkbox", (v) => (state.draft[f.name] || []).includes(v),
      (v) => setAnswer(f.name, toggle(state.draft[f.name], v)));
  }

  function marksField(f) {
    const options = (item().examples || []).map((e) => [e.row, e.name,
      /^[1-9]$/.test(e.name) ? `⇧${e.name}` : "", `example row ${e.row}`]);
    const set = optionGroup(f, options, "checkbox", (v) => (state.draft[f.name] || []).includes(v),
      (v) => setAnswer(f.name, toggle(state.draft[f.name], v)));
    set.classList.add("marks");
    return set;
  }

  // ratings: one choice per shown map; predictions: one level per shown example
  function ratingsField(f) {
    const set = node("fieldset", { className: `field ${f.type}`, "data-field": f.name }, legend(f));
    const groups = [];
    targetsOf(f).forEach(({ key: method, label, num }, i) => {
      const row = node("div", { className: "rating", role: "radiogroup",
        "aria-label": label ? `${num}. ${label}` : `example ${num}` },
        node("span", { className: "map" }, node("span", { className: "num", text: String(num) }),
          node("span", { text: label })));
      const group = `ir-g${++uid}`;
      const radios = f.choices.map((choice, j) => {
        const id = `ir-f${++uid}`;
        const input = node("input", { id, type: "radio", name: group, value: choice });
        input.addEventListener("change", () => {
          if (!input.checked) return;
          state.cursor = i;
          setAnswer(f.name, { ...(state.draft[f.name] || {}), [method]: choice });
        });
        row.append(node("label", { for: id, className: "option" }, input, node("span", { text: choice }),
          document.createTextNode(" "), kbd((f.shortcuts || [])[j])));
        return [choice, input];
      });
      groups.push([method, row, radios]);
      set.append(row);
    });
    const paint = () => groups.forEach(([method, row, radios], i) => {
      row.classList.toggle("current", i === state.cursor);
      for (const [choice, input] of radios) input.checked = (state.draft[f.name] || {})[method] === choice;
    });
    inputs[f.name] = { el: set, focus: () => groups.length && groups[state.cursor][2][0][1].focus(), set: paint, paint };
    paint();
    return set;
  }

  const BUILD = { text: textField, choice: choiceField, scale: choiceField, boolean: choiceField,
    multi_choice: multiField, marks: marksField, ratings: ratingsField, predictions: ratingsField };

  // -- keyboard -----------------------------------------------------------------------
  function keymap() {
    const map = new Map();
    for (const f of fields()) {
      if (f.key) map.set(f.key, () => inputs[f.name] && inputs[f.name].focus());
      (f.choices || []).forEach((choice, i) => {
        const key = (f.shortcuts || [])[i];
        if (!key) return;
        let value = choice;
        if (f.type === "scale") value = Number(choice);
        if (f.type === "multi_choice") map.set(key, () => setAnswer(f.name, toggle(state.draft[f.name], value)));
        else if (PER_TARGET.includes(f.type)) map.set(key, () => rateCurrent(f, choice));
        else map.set(key, () => setAnswer(f.name, value));
      });
    }
    return map;
  }

  function ratingsFieldOf() { return fields().find((f) => PER_TARGET.includes(f.type)); }

  function rateCurrent(f, choice) {
    const targets = targetsOf(f);
    if (!targets.length) return;
    setAnswer(f.name, { ...(state.draft[f.name] || {}), [targets[state.cursor].key]: choice });
    if (state.cursor < targets.length - 1) state.cursor += 1;
    inputs[f.name].paint();
  }

  function moveCursor(to) {
    const f = ratingsFieldOf();
    const targets = f ? targetsOf(f) : [];
    if (!targets.length) return false;
    state.cursor = Math.max(0, Math.min(targets.length - 1, to));
    inputs[f.name].paint();
    return true;
  }

  function onKey(e) {
    if (!form.isConnected || e.isComposing || e.keyCode === 229) return; // IME at work
    const path = e.composedPath ? e.composedPath() : [];
    const target = path[0] || e.target;
    const typing = target && (target.tagName === "TEXTAREA" || target.tagName === "SELECT" ||
      target.isContentEditable ||
      (target.tagName === "INPUT" && !["radio", "checkbox"].includes(target.type)));
    const command = e.ctrlKey || e.metaKey;
    const altGraph = e.getModifierState && e.getModifierState("AltGraph");
    if (e.key === "Enter" && !e.repeat) {
      if (typing && !command) return; // a new line; Ctrl+Enter submits from a text box
      if (!typing && target && ["BUTTON", "A", "SUMMARY"].includes(target.tagName)) return;
      if (e.altKey && !altGraph) return;
      e.preventDefault();
      submit();
      return;
    }
    if (typing) {
      if (e.key === "Escape") { target.blur(); e.preventDefault(); }
      return;
    }
    if ((command || e.altKey) && !altGraph) return; // leave browser shortcuts alone
    if (e.key === RESERVED.back) { e.preventDefault(); go("back"); return; }
    if (e.key === RESERVED.next) { e.preventDefault(); go("next"); return; }
    if (e.key === RESERVED.help) { e.preventDefault(); help.open = !help.open; return; }
    if (!item().key) return; // the "all answered" screen has nothing to answer
    // Shift+1..9 ticks a top example, where Shift+digit does not type a digit (as on AZERTY)
    if (e.shiftKey && /^Digit[1-9]$/.test(e.code) && !/^[0-9]$/.test(e.key)) {
      const name = e.code.slice(5);
      const marks = fields().find((f) => f.type === "marks");
      const example = (item().examples || []).find((x) => x.name === name);
      if (marks && example) {
        e.preventDefault();
        setAnswer(marks.name, toggle(state.draft[marks.name], example.row));
      }
      return;
    }
    const action = keymap().get(e.key);
    if (action) { e.preventDefault(); action(); return; }
    if (/^[1-9]$/.test(e.key) && moveCursor(Number(e.key) - 1)) { e.preventDefault(); return; }
    if (e.key === "ArrowDown" && moveCursor(state.cursor + 1)) { e.preventDefault(); return; }
    if (e.key === "ArrowUp" && moveCursor(state.cursor - 1)) { e.preventDefault(); }
  }

  function go(where) {
    if (state.saving) return;
    model.send_msg({ type: "go", to: where, from: item().key });
  }

  // -- layout -------------------------------------------------------------------------
  const header = node("div", { className: "progress-line" });
  const banner = node("div", { className: "banner" });
  const body = node("div", { className: "fields" });
  const back = node("button", { type: "button", className: "back", "aria-keyshortcuts": "[" },
    node("span", { text: "← Previous" }), document.createTextNode(" "), kbd("["));
  const send = node("button", { type: "submit", className: "submit", "aria-keyshortcuts": "Enter" },
    node("span", { text: "Submit" }), document.createTextNode(" "), kbd("Enter"));
  const next = node("button", { type: "button", className: "next", "aria-keyshortcuts": "]" },
    node("span", { text: "Next →" }), document.createTextNode(" "), kbd("]"));
  back.addEventListener("click", () => go("back"));
  next.addEventListener("click", () => go("next"));
  form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
  const help = node("details", { className: "keys", open: true }, node("summary", { text: "Keyboard shortcuts (?)" }));

  // -- skipping: with a reason, recorded; the item goes back to the pool ----------------
  const reasonId = `ir-f${++uid}`;
  const reasonSelect = node("select", { id: reasonId, className: "skip-reason" });
  for (const reason of SKIP_REASONS) reasonSelect.append(node("option", { value: reason, text: reason }));
  const reasonText = node("input", { type: "text", className: "skip-details", maxlength: 400,
    placeholder: "Details (needed for “Other”)", "aria-label": "Details of the reason" });
  const skipSend = node("button", { type: "button", className: "skip-send", text: "Skip this item" });
  const skip = node("details", { className: "skip" }, node("summary", { text: "Skip…" }),
    node("label", { for: reasonId, text: "Why?" }), reasonSelect, reasonText, skipSend);
  skipSend.addEventListener("click", () => {
    const it = item();
    if (!it.key || state.saving) return;
    const details = reasonText.value.trim();
    if (reasonSelect.value === "Other" && !details) {
      say("Say why you skip this item.", "error");
      reasonText.focus();
      return;
    }
    const reason = details ? `${reasonSelect.value}: ${details}` : reasonSelect.value;
    model.send_msg({ type: "skip", task: model.task, key: it.key, reason });
    skip.open = false;
    reasonText.value = "";
    say("Skipping…");
  });
  form.append(header, banner, body, node("div", { className: "actions" }, back, send, next), status, skip, help);

  function keyRows() {
    const rows = [["Enter", "submit and go to the next item (Ctrl+Enter inside a text box)"],
      ["Esc", "leave a text box"], ["[  ]", "previous / next item without submitting"], ["?", "show or hide this list"]];
    for (const f of fields()) {
      if (f.key) rows.push([f.key, `type in "${f.label}"`]);
      if (f.type === "marks") rows.push(["Shift+1…9", `tick top example 1…9 in "${f.label}"`]);
      if (PER_TARGET.includes(f.type)) {
        const keys = (f.shortcuts || []).filter(Boolean).join(" ");
        const what = f.type === "ratings" ? "map" : "example";
        rows.push([keys, `rate the highlighted ${what} (${f.choices.join(" / ")}), then move on`]);
        rows.push(["1…9  ↑ ↓", `highlight ${what} 1…9 / the previous or next ${what}`]);
      } else if ((f.shortcuts || []).some(Boolean)) {
        const keys = (f.shortcuts || []).filter(Boolean).join(" ");
        rows.push([keys, `${f.label}: ${f.choices.filter((c, i) => (f.shortcuts || [])[i]).join(", ")}`]);
      }
    }
    const table = node("table");
    for (const [key, what] of rows) table.append(node("tr", {}, node("th", {}, kbd(key)), node("td", { text: what })));
    return table;
  }

  function build() {
    const it = item();
    for (const key of Object.keys(inputs)) delete inputs[key];
    body.replaceChildren();
    help.querySelector("table")?.remove();
    help.append(keyRows());
    state.cursor = 0;
    state.shownAt = performance.now();
    if (!it.key) {
      header.textContent = it.total ? `All ${it.total} items answered` : "No items";
      banner.textContent = it.total ? "Thank you! Use ← Previous to look at or change your answers." : "";
      banner.className = "banner done";
      send.disabled = true;
      next.disabled = true;
      back.disabled = !it.total;
      skip.hidden = true;
      globalThis.__irShown = { key: null, t: performance.now() };
      return;
    }
    send.disabled = false;
    next.disabled = false;
    back.disabled = false;
    skip.hidden = Boolean(it.judgment);  // an answered item is changed, not skipped
    const draft = readJSON(draftKey(it.key), null);
    const base = {};
    for (const f of fields()) base[f.name] = emptyValue(f);
    state.draft = { ...base, ...(it.answers || {}), ...(draft || {}) };
    header.replaceChildren(
      node("span", { className: "position", text: `Item ${it.position + 1} of ${it.total}` }),
      node("span", { className: "answered", text: ` · ${it.answered} answered` }),
      node("progress", { max: it.total, value: it.answered, "aria-label": `${it.answered} of ${it.total} answered` }));
    banner.className = "banner";
    banner.textContent = draft !== null ? "Unsent answer restored from this browser."
      : it.judgment ? "You answered this item before; submitting replaces your answer." : "";
    for (const f of fields()) {
      const make = BUILD[f.type];
      if (make) body.append(make(f));
    }
    if (state.flash) { say(...state.flash); state.flash = null; } else say("");
    const active = document.activeElement;
    if (active && active !== document.body && typeof active.blur === "function") active.blur();
    form.dataset.key = it.key;
    globalThis.__irShown = { key: it.key, t: performance.now() }; // for benchmarks
  }

  // Linked views: a click on an element of the item that names another item (data-link), a
  // pixel (data-pixel) or a token (data-token) asks the server for the linked view.
  function onClick(e) {
    if (!form.isConnected) return;
    for (const el of (e.composedPath ? e.composedPath() : [])) {
      if (!el || !el.dataset) continue;
      if (el.dataset.link) {
        e.preventDefault();
        model.send_msg({ type: "peek", address: el.dataset.link });
        return;
      }
      if (el.dataset.pixel) {
        const box = el.getBoundingClientRect();
        const y = Math.min(Math.max((e.clientY - box.top) / box.height, 0), 1);
        const x = Math.min(Math.max((e.clientX - box.left) / box.width, 0), 1);
        model.send_msg({ type: "peek-place", address: el.dataset.pixel, y, x });
        return;
      }
      if (el.dataset.token !== undefined && el.dataset.of) {
        model.send_msg({ type: "peek-place", address: el.dataset.of, token: Number(el.dataset.token) });
        return;
      }
    }
  }

  model.on("item", build);
  model.on("schema", build);
  document.addEventListener("keydown", onKey);
  document.addEventListener("click", onClick);
  // a reviewer who takes long over one item keeps it: the server renews the lease
  const holding = setInterval(() => {
    const it = item();
    if (form.isConnected && it.key && !it.judgment && document.visibilityState === "visible") {
      model.send_msg({ type: "hold", task: model.task, key: it.key });
    }
  }, HOLD_MS);
  model.on("remove", () => {
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("click", onClick);
    clearInterval(holding);
  });
  build();
  sendPending();
  return form;
}
