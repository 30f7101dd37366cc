// Trust Anchor verification page: plain JavaScript, no build step. Every value shown comes from the
// API and goes into the page through textContent, never as HTML.

const CHECK_LABELS = {
  integrity: "Document unchanged",
  inclusion: "Part of the signed batch",
  anchored: "Anchored on the ledger",
  document_status: "Not revoked or used",
  signature: "Authority's signature",
  certificate_chain: "Certificate chain",
  ca_status: "Authority in good standing",
  recognition: "Recognized by your country",
  terms: "Destination, validity and quantity",
};
const VERDICT_SUMMARY = {
  VALID: "The document is authentic, unchanged and recognized.",
  INVALID: "Do not accept this document: at least one check failed.",
  INDETERMINATE: "The ledger could not be read: no decision is possible right now.",
};

const $ = (id) => document.getElementById(id);
const state = { document: null, bundle: null };

function apiKey() {
  return sessionStorage.getItem("ta-api-key") || "";
}

async function api(path, options = {}) {
  const headers = new Headers(options.headers || {});
  if (apiKey()) headers.set("X-API-Key", apiKey());
  const response = await fetch(path, { ...options, headers });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && body.detail ? body.detail : `HTTP ${response.status}`;
    const error = new Error(detail);
    error.status = response.status;
    throw error;
  }
  return body;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

function formatTime(seconds) {
  if (!seconds) return "—";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

function shortHex(hex, keep = 10) {
  return hex && hex.length > 2 * keep + 2 ? `${hex.slice(0, keep + 2)}…${hex.slice(-keep)}` : hex || "—";
}

// ---------------------------------------------------------------- views

function showView(name) {
  for (const tab of document.querySelectorAll(".tab")) {
    const active = tab.dataset.view === name;
    tab.classList.toggle("active", active);
    tab.setAttribute("aria-selected", String(active));
  }
  $("view-verify").hidden = name !== "verify";
  $("view-registry").hidden = name !== "registry";
  if (name === "registry") loadRegistry();
}

// ---------------------------------------------------------------- session and status

function refreshKeyState() {
  const has = Boolean(apiKey());
  $("key-box").classList.toggle("has-key", has);
  $("key-summary").textContent = has ? "API key set" : "API key";
}

async function refreshChainStatus() {
  const status = $("chain-status");
  try {
    const response = await fetch("/v1/health/ready");
    const body = await response.json();
    const chain = body.checks && body.checks.chain;
    if (chain && chain.ok) {
      status.textContent = `Ledger online · block ${chain.block}`;
      status.className = "chain-status up";
    } else {
      status.textContent = "Ledger unreachable";
      status.className = "chain-status down";
    }
  } catch {
    status.textContent = "Service unreachable";
    status.className = "chain-status down";
  }
}

async function loadParties() {
  const select = $("party");
  const chosen = select.value;
  try {
    const body = await api("/v1/registry/parties");
    select.replaceChildren();
    for (const p of body.parties.filter((x) => x.member)) {
      select.append(new Option(p.party, p.party));
    }
    if (chosen) select.value = chosen;
  } catch (error) {
    select.replaceChildren(new Option(error.status === 401 ? "Set an API key first" : "Parties unavailable", ""));
  }
  updateVerifyButton();
}

// ---------------------------------------------------------------- files

function setFile(kind, file) {
  state[kind] = file;
  const drop = $(`drop-${kind}`);
  drop.classList.toggle("filled", Boolean(file));
  $(`${kind}-name`).textContent = file
    ? `${file.name} · ${(file.size / 1024).toFixed(1)} KB`
    : kind === "document"
      ? "Drop the file here or click to choose"
      : "The .bundle.json file issued with it";
  updateVerifyButton();
}

function wireDrop(kind) {
  const drop = $(`drop-${kind}`);
  const input = $(`${kind}-file`);
  input.addEventListener("change", () => setFile(kind, input.files[0] || null));
  drop.addEventListener("dragover", (event) => {
    event.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    const files = [...event.dataTransfer.files];
    if (files.length === 2 && kind === "document") {
      // Both dropped at once: the bundle is the .bundle.json one.
      const bundle = files.find((f) => f.name.endsWith(".bundle.json")) || files[1];
      setFile("bundle", bundle);
      setFile("document", files.find((f) => f !== bundle));
    } else if (files[0]) {
      setFile(kind, files[0]);
    }
  });
}

function updateVerifyButton() {
  $("verify-button").disabled = !(state.document && state.bundle && $("party").value);
}

// ---------------------------------------------------------------- verification

function showFormError(message) {
  const box = $("form-error");
  box.textContent = message;
  box.hidden = !message;
}

async function verify(event) {
  event.preventDefault();
  showFormError("");
  const button = $("verify-button");
  button.disabled = true;
  button.textContent = "Verifying…";
  const form = new FormData();
  form.append("document", state.document, state.document.name);
  form.append("bundle", state.bundle, state.bundle.name);
  form.append("verifyingParty", $("party").value);
  try {
    renderVerdict(await api("/v1/verify/upload", { method: "POST", body: form }));
  } catch (error) {
    $("result").hidden = true;
    showFormError(error.message);
  } finally {
    button.textContent = "Verify";
    updateVerifyButton();
  }
}

function renderVerdict(v) {
  $("result").hidden = false;
  $("verdict").className = `verdict ${v.verdict}`;
  $("verdict-word").textContent = v.verdict;
  $("verdict-summary").textContent = VERDICT_SUMMARY[v.verdict] || "";
  const facts = $("verdict-facts");
  facts.replaceChildren();
  const rows = [
    ["Document", v.document],
    ["Verified as", v.verifyingParty],
    ["Anchored", formatTime(v.anchoredAt)],
    ["Ledger read at", v.chain && v.chain.readAtBlock != null ? `block ${v.chain.readAtBlock}` : "—"],
    ...termRows(v.terms || {}),
  ];
  for (const [term, value] of rows) {
    const wrap = el("div");
    wrap.append(el("dt", null, term), el("dd", null, value));
    facts.append(wrap);
  }
  const list = $("checks");
  list.replaceChildren();
  for (const check of v.checks) {
    const item = el("li", "check");
    item.dataset.check = check.name;
    const status = check.warning ? "WARNING" : check.status;
    item.append(el("span", `badge ${status}`, check.warning ? "VALID · NOTE" : check.status));
    const name = el("div", "check-name", CHECK_LABELS[check.name] || check.name);
    name.append(el("span", "check-code", check.code));
    item.append(name, el("div", "check-message", sentence(check.message)));
    list.append(item);
  }
  $("result").scrollIntoView({ block: "nearest" });
}

// The terms the issuer committed in the leaf, as facts an officer checks against the consignment.
function termRows(t) {
  const rows = [];
  if (t.destination) rows.push(["Destined to", t.destination]);
  if (t.validFrom || t.validUntil) {
    rows.push(["Valid", `${t.validFrom ? formatTime(t.validFrom) : "from issue"} – ${t.validUntil ? formatTime(t.validUntil) : "open"}`]);
  }
  if (t.quantity) {
    const unit = t.unit ? ` ${t.unit}` : "";
    const left = t.remaining != null ? `${t.remaining}${unit} of ${t.quantity}${unit} remain` : `${t.quantity}${unit}`;
    rows.push(["Quantity", left]);
  }
  return rows;
}

function sentence(message) {
  if (!message) return "";
  // Capitalize a plain first word ("the document …"), not an identifier ("ecdsa-sha256 …").
  const first = message.split(" ", 1)[0];
  const text = /^[a-z][a-z-]*$/.test(first) ? message.charAt(0).toUpperCase() + message.slice(1) : message;
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

// ---------------------------------------------------------------- registry

function asOfQuery() {
  const value = $("asof").value.trim();
  if (!value || value.toLowerCase() === "now") return "";
  return /^\d+$/.test(value) ? `?block=${value}` : `?at=${encodeURIComponent(value)}`;
}

async function loadRegistry(event) {
  if (event) event.preventDefault();
  const error = $("registry-error");
  error.hidden = true;
  const q = asOfQuery();
  try {
    const [parties, cas, recognitions] = await Promise.all([
      api(`/v1/registry/parties${q}`),
      api(`/v1/registry/cas${q}`),
      api(`/v1/registry/recognitions${q}`),
    ]);
    $("registry-meta").textContent =
      `Read at block ${parties.block}` + (parties.at ? ` · as of ${formatTime(parties.at)}` : "") +
      ` · proposals need ${parties.threshold} approval(s)`;
    renderParties(parties.parties);
    renderCas(cas.cas);
    renderMatrix(recognitions);
  } catch (e) {
    error.textContent = e.status === 401 ? "Set an API key (top right) to read the registry." : e.message;
    error.hidden = false;
  }
}

function pill(text, kind) {
  return el("span", `pill ${kind || text}`, text);
}

function renderParties(parties) {
  const body = $("parties-table").querySelector("tbody");
  body.replaceChildren();
  for (const p of parties) {
    const row = el("tr");
    row.append(
      el("td", "check-name", p.party),
      cell(pill(p.member ? "member" : "former", p.member ? "yes" : "no")),
      el("td", "mono", p.admins.map((a) => shortHex(a, 4)).join(", ") || "—"),
      el("td", null, p.cas.length),
      el("td", "mono", p.issuers.map((a) => shortHex(a, 4)).join(", ") || "—"),
    );
    body.append(row);
  }
}

function cell(child) {
  const td = el("td");
  td.append(child);
  return td;
}

function renderCas(cas) {
  const body = $("cas-table").querySelector("tbody");
  body.replaceChildren();
  for (const ca of cas) {
    const history = el("ul", "history");
    for (const h of ca.history) {
      history.append(el("li", null, `${h.status} from ${formatTime(h.effectiveAt)}${h.reason !== "unspecified" ? ` (${h.reason})` : ""}`));
    }
    const row = el("tr");
    row.append(
      el("td", "check-name", ca.party),
      el("td", "mono", shortHex(ca.fingerprint, 8)),
      cell(pill(ca.status)),
      el("td", null, ca.documentTypes.join(", ")),
      el("td", null, `${formatTime(ca.notBefore).slice(0, 10)} – ${formatTime(ca.notAfter).slice(0, 10)}`),
      cell(history),
    );
    body.append(row);
  }
}

function renderMatrix(r) {
  const table = $("matrix-table");
  const head = table.querySelector("thead");
  const body = table.querySelector("tbody");
  head.replaceChildren();
  body.replaceChildren();
  const top = el("tr");
  top.append(el("th", null, "Recognizer ↓ · recognized →"));
  for (const p of r.parties) top.append(el("th", null, p));
  head.append(top);
  for (const recognizer of r.parties) {
    const row = el("tr");
    row.append(el("td", null, recognizer));
    for (const recognized of r.parties) {
      if (recognizer === recognized) {
        row.append(el("td", "self", "own"));
        continue;
      }
      const types = (r.matrix[recognizer] || {})[recognized];
      row.append(types ? el("td", "types", types.join(", ")) : el("td", "none", "—"));
    }
    body.append(row);
  }
}

// ---------------------------------------------------------------- start

function start() {
  for (const tab of document.querySelectorAll(".tab")) {
    tab.addEventListener("click", () => showView(tab.dataset.view));
  }
  $("api-key").value = apiKey();
  $("save-key").addEventListener("click", () => {
    sessionStorage.setItem("ta-api-key", $("api-key").value.trim());
    $("key-box").open = false;
    refreshKeyState();
    loadParties();
    if (!$("view-registry").hidden) loadRegistry();
  });
  wireDrop("document");
  wireDrop("bundle");
  $("party").addEventListener("change", updateVerifyButton);
  $("verify-form").addEventListener("submit", verify);
  $("asof-form").addEventListener("submit", loadRegistry);
  refreshKeyState();
  refreshChainStatus();
  setInterval(refreshChainStatus, 15000);
  loadParties();
}

start();
