// ReelGuard web page: plain JS over the same HTTP API (no external scripts, fonts or CDNs).
// Everything from the server is inserted with textContent, never as HTML.
"use strict";

const $ = (sel) => document.querySelector(sel);
const KEY = "reelguard.apiKey";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

function key() { return sessionStorage.getItem(KEY) || ""; }

function headers(extra = {}) {
  // No key, no header: in public mode the server then treats the call as anonymous.
  return Object.assign(key() ? { "X-API-Key": key() } : {}, extra);
}

function errorMessage(status, body) {
  if (body && body.error) {
    let msg = `${body.error.message} (HTTP ${status}, request ${body.error.request_id})`;
    if (status === 401) msg += " Enter an API key above and try again.";
    return msg;
  }
  return `HTTP ${status}`;
}

async function api(path, options = {}) {
  const response = await fetch(path, Object.assign({}, options, { headers: headers(options.headers) }));
  const type = response.headers.get("content-type") || "";
  const body = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Error(errorMessage(response.status, body));
  return body;
}

// fetch() reports no upload progress; XMLHttpRequest does. Resolves with the JSON body.
function upload(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    for (const [k, v] of Object.entries(headers())) xhr.setRequestHeader(k, v);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (ev) => { if (ev.lengthComputable) onProgress(ev.loaded / ev.total); });
    xhr.upload.addEventListener("load", () => onProgress(1));
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else {
        let msg = errorMessage(xhr.status, xhr.response);
        const wait = xhr.getResponseHeader("Retry-After");
        if (xhr.status === 429 && wait) msg += ` (retry in ${wait} s)`;
        reject(new Error(msg));
      }
    });
    xhr.addEventListener("error", () => reject(new Error("the server could not be reached")));
    xhr.send(form);
  });
}

function fill(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    if (v === undefined || v === null || v === "") continue;
    dl.append(el("dt", {}, k), el("dd", {}, v));
  }
}

// ---- tabs and key ---------------------------------------------------------------------------
for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t === tab));
    document.querySelectorAll(".panel").forEach((p) => p.classList.toggle("active", p.id === tab.dataset.tab));
    if (tab.dataset.tab === "dashboard") loadDashboard();
    if (tab.dataset.tab === "works") loadWorks();
  });
}

async function whoami() {
  if (!key()) { $("#whoami").textContent = "no key"; return; }
  try {
    const me = await api("/api/me");
    $("#whoami").textContent = `${me.role}${me.owner ? " · " + me.owner : ""} (${me.key_id})`;
  } catch (e) { $("#whoami").textContent = e.message; }
}

$("#key-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(KEY, $("#api-key").value.trim());
  $("#api-key").value = "";
  whoami();
  // A verification refused for want of a key runs again with the new one.
  if (lastFailed && lastFile) verifyFile(lastFile);
});

if (document.body.dataset.verifyMode === "public") $("#public-note").hidden = false;

// ---- verify -----------------------------------------------------------------------------------
const drop = $("#drop");
const picker = $("#file");
let lastFile = null;     // kept so "Try again" and a newly entered key can re-run it
let lastFailed = false;
let running = 0;         // a newer verification replaces an older one on screen

// Dropping a file anywhere else must not make the browser navigate away to it.
for (const type of ["dragover", "drop"]) document.addEventListener(type, (ev) => ev.preventDefault());
drop.addEventListener("dragenter", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragover", (ev) => { ev.preventDefault(); ev.dataTransfer.dropEffect = "copy"; drop.classList.add("over"); });
drop.addEventListener("dragleave", (ev) => { if (!drop.contains(ev.relatedTarget)) drop.classList.remove("over"); });
drop.addEventListener("drop", (ev) => {
  ev.preventDefault(); drop.classList.remove("over");
  const files = ev.dataTransfer && ev.dataTransfer.files;
  if (files && files.length) verifyFile(files[0]);
});
drop.addEventListener("keydown", (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); picker.click(); } });
picker.addEventListener("change", () => {
  const file = picker.files.length ? picker.files[0] : null;
  // Clear the input, so picking the same file again (after an error, a new key) fires "change".
  picker.value = "";
  if (file) verifyFile(file);
});
$("#retry").addEventListener("click", () => { if (lastFile) verifyFile(lastFile); });

function showProgress(fraction, text) {
  $("#progress-box").hidden = false;
  const bar = $("#progress");
  if (fraction === null) bar.removeAttribute("value"); else bar.value = Math.round(fraction * 100);
  $("#progress-text").textContent = text;
}

async function verifyFile(file) {
  const id = ++running;
  lastFile = file; lastFailed = false;
  const status = $("#status");
  const mb = (file.size / 1e6).toFixed(1);
  status.className = "muted";
  status.textContent = `Verifying ${file.name} (${mb} MB)…`;
  $("#retry").hidden = true;
  $("#verdict").hidden = true;
  const started = Date.now();
  let uploaded = false;
  // After the upload the server reads, decodes and matches: an indeterminate bar and a clock.
  const tick = setInterval(() => {
    if (id === running && uploaded) showProgress(null, `analysing… ${Math.round((Date.now() - started) / 1000)} s`);
  }, 500);
  showProgress(0, "uploading…");
  const form = new FormData();
  form.append("file", file);
  try {
    const report = await upload("/api/verify", form, (f) => {
      if (id !== running) return;
      if (f >= 1) { uploaded = true; showProgress(null, "analysing…"); }
      else showProgress(f, `uploading ${Math.round(f * 100)} %`);
    });
    if (id !== running) return;
    status.textContent = `Verified ${file.name} in ${((Date.now() - started) / 1000).toFixed(1)} s`;
    showReport(report);
  } catch (e) {
    if (id !== running) return;
    lastFailed = true;
    status.className = "error";
    status.textContent = e.message;
    $("#retry").hidden = false;
  } finally {
    clearInterval(tick);
    if (id === running) $("#progress-box").hidden = true;
  }
}

function showReport(r) {
  const word = $("#verdict-word");
  word.textContent = r.verdict;
  word.className = "badge " + r.verdict;
  $("#reasons").replaceChildren(...r.reasons.map((x) => el("li", {}, x)), ...r.flags.map((f) => el("li", { class: "error" }, "flag: " + f)));
  const c = r.c2pa || {};
  const d = r.disclosure || {};
  $("#label").textContent = d.label || "";
  const ai = d.ai_generated === true ? "yes" : d.ai_generated === false ? "no (stated)" : "not stated";
  const actions = (c.actions || []).map((a) => a.action + (a.digital_source_type ? " (" + a.digital_source_type.split("/").pop() + ")" : "")).join(", ");
  const ingredients = (c.ingredients || []).map((i) => `${i.title || "?"} [${i.state}]${(i.codes || []).length ? " " + i.codes.join(", ") : ""}`).join("; ");
  const stamp = c.time_stamped ? (c.timestamp_trusted ? "yes (trusted authority)" : "yes (authority not trusted)") : "no";
  fill($("#c2pa"), [["state", c.state], ["issuer", c.issuer], ["signed by", c.signer], ["signed at", c.signed_at], ["time-stamp", stamp],
    ["claim generator", c.claim_generator], ["AI-generated", ai], ["signals", (d.signals || []).join(", ")], ["actions", actions],
    ["ingredients", ingredients], ["identity (CAWG)", (c.cawg_identities || []).join("; ")], ["codes", (c.codes || []).join(", ")]]);
  const rec = (r.registry || {}).record;
  const policy = rec ? rec.policy_decision || {} : {};
  fill($("#model"), rec ? [["content id", rec.content_id], ["model", rec.model_id], ["pipeline", rec.pipeline_class], ["seed", rec.seed], ["policy", rec.policy_action], ["rule", rec.policy_rule_id || "-"], ["jurisdiction", rec.jurisdiction], ["pack", (rec.pack_digest || "").slice(0, 16)], ["reason", policy.reason]] : [["record", "no ReelGuard generation record"]]);
  const w = r.watermark || {};
  if (!r.watermark) fill($("#watermark"), [["checked", "no (" + (r.media_kind === "video" ? "not requested" : "not a video") + ")"]]);
  else fill($("#watermark"), [["detected", String(!!w.detected)], ["scheme", w.scheme], ["payload", w.payload], ["p-value", w.p_value === undefined ? "" : Number(w.p_value).toExponential(2)], ["frames used", w.frames_used]]);
  const p = r.audit_proof || {};
  fill($("#proof"), [["leaf", r.audit_leaf_index], ["event", p.event_id], ["tree size", p.tree_size], ["root", p.root], ["path length", (p.path || []).length], ["leaf hash", p.leaf_hash]]);
  const matches = ((r.registry || {}).matches || []);
  const box = $("#matches");
  box.replaceChildren();
  if (!matches.length) box.append(el("p", { class: "muted" }, "No registered work matches."));
  matches.forEach((m, i) => {
    const card = el("div", { class: "match" });
    const src = (r.thumbnails || [])[i];
    if (src && src.startsWith("data:image/jpeg;base64,")) card.append(el("img", { src, alt: `matched segment of ${m.title}` }));
    card.append(el("strong", {}, m.title), el("div", {}, `by ${m.owner}`),
      el("div", { class: "muted" }, `score ${Number(m.score).toFixed(2)} · this clip ${Number(m.query_start).toFixed(1)}–${Number(m.query_end).toFixed(1)} s`),
      el("div", { class: "muted" }, `= ${m.file || "the work"} ${Number(m.ref_start).toFixed(1)}–${Number(m.ref_end).toFixed(1)} s`));
    box.append(card);
  });
  $("#verdict").hidden = false;
}

// ---- dashboard (inline SVG charts) -------------------------------------------------------------
const COLORS = { authentic: "#1b7f3b", recovered: "#0b63a8", tampered: "#b3261e", untrusted: "#a36a00", unverifiable: "#7b3fa0", unknown: "#6b7480" };

function barChart(items, { width = 640, bar = 22 } = {}) {
  const NS = "http://www.w3.org/2000/svg";
  const max = Math.max(1, ...items.map((d) => d.value));
  const labelW = 170, height = items.length * (bar + 6) + 6;
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${Math.max(height, 30)}`);
  svg.setAttribute("role", "img");
  items.forEach((d, i) => {
    const y = 6 + i * (bar + 6);
    const w = ((width - labelW - 60) * d.value) / max;
    const label = document.createElementNS(NS, "text");
    label.setAttribute("x", 0); label.setAttribute("y", y + bar * 0.7); label.setAttribute("font-size", "12");
    label.textContent = d.label;
    const rect = document.createElementNS(NS, "rect");
    rect.setAttribute("x", labelW); rect.setAttribute("y", y); rect.setAttribute("height", bar);
    rect.setAttribute("width", Math.max(1, w)); rect.setAttribute("fill", d.color || "#0b63a8");
    const value = document.createElementNS(NS, "text");
    value.setAttribute("x", labelW + w + 6); value.setAttribute("y", y + bar * 0.7); value.setAttribute("font-size", "12");
    value.textContent = String(d.value);
    svg.append(label, rect, value);
  });
  if (!items.length) {
    const t = document.createElementNS(NS, "text");
    t.setAttribute("x", 0); t.setAttribute("y", 20); t.textContent = "no data yet";
    svg.append(t);
  }
  return svg;
}

async function loadDashboard() {
  const status = $("#dash-status");
  status.className = "muted"; status.textContent = "loading…";
  try {
    const stats = await api("/api/audit/stats");
    fill($("#log-head"), [["events", stats.size], ["root", stats.root]]);
    $("#chart-verdicts").replaceChildren(barChart(Object.entries(stats.verdicts).map(([k, v]) => ({ label: k, value: v, color: COLORS[k] }))));
    const days = {};
    for (const d of stats.by_day) days[d.day] = (days[d.day] || 0) + d.count;
    $("#chart-days").replaceChildren(barChart(Object.entries(days).map(([k, v]) => ({ label: k, value: v }))));
    $("#chart-kinds").replaceChildren(barChart(Object.entries(stats.by_kind).map(([k, v]) => ({ label: k, value: v, color: "#4a5a6a" }))));
    const since = new Date(Date.now() - 86400e3).toISOString();
    const events = await api(`/api/audit/events?limit=1000&start=${encodeURIComponent(since)}`);
    $("#events tbody").replaceChildren(...events.slice(-15).reverse().map((e) =>
      el("tr", {}, el("td", {}, e.leaf_index), el("td", {}, e.kind), el("td", {}, e.actor), el("td", {}, e.recorded_at))));
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
  } catch (e) { status.className = "error"; status.textContent = e.message; }
}
$("#refresh-dashboard").addEventListener("click", loadDashboard);

// ---- rights holders: register works ------------------------------------------------------------
async function loadWorks() {
  try {
    const works = await api("/api/registry/works");
    $("#work-list tbody").replaceChildren(...works.map((w) => {
      const remove = el("button", {}, "Remove");
      remove.addEventListener("click", async () => {
        try { await api(`/api/registry/works/${w.id}`, { method: "DELETE" }); loadWorks(); }
        catch (e) { $("#work-status").textContent = e.message; }
      });
      return el("tr", {}, el("td", {}, w.title), el("td", {}, w.owner), el("td", {}, w.assets), el("td", {}, w.created_at), el("td", {}, remove));
    }));
  } catch (e) { $("#work-status").className = "error"; $("#work-status").textContent = e.message; }
}

$("#work-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const status = $("#work-status");
  const form = new FormData();
  form.append("title", $("#work-title").value);
  if ($("#work-license").value) form.append("license", $("#work-license").value);
  if ($("#work-owner").value) form.append("owner", $("#work-owner").value);
  form.append("file", $("#work-file").files[0]);
  status.className = "muted"; status.textContent = "registering…";
  try {
    const w = await api("/api/registry/works", { method: "POST", body: form });
    status.textContent = w.duplicate ? `already registered as ${w.work_id}` : `registered ${w.title} (${w.assets} asset, ${w.frames} keyframes)`;
    loadWorks();
  } catch (e) { status.className = "error"; status.textContent = e.message; }
});

whoami();
