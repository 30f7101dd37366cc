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
// A passed check in words, where its own sentence is technical (a canonicalization, a leaf index, an
// account address, a block number): that sentence stays under "Technical details".
const PASSED = {
  DIGEST_MATCH: "Exactly the document that was issued.",
  PROOF_VALID: "Part of the batch the authority signed.",
  ANCHORED: "Recorded on the shared ledger by an authorized issuing agency.",
  SIGNATURE_VALID: "The issuing authority's signature is genuine.",
  CHAIN_VALID: "The signing certificate comes from the authority's registered CA.",
  CA_ACTIVE: "The authority's CA was in good standing when the document was issued.",
};
// The headline names what failed: a label per check, sharper per code where one check fails in ways
// an officer acts on differently (docs/verification.md lists every code).
const FAILED_LABELS = {
  integrity: "Not the issued document",
  inclusion: "Not part of the signed batch",
  anchored: "Not on the ledger",
  document_status: "No longer in force",
  signature: "Signature not genuine",
  certificate_chain: "Certificate not trusted",
  ca_status: "Authority not in good standing",
  recognition: "Not recognized",
  terms: "Outside its terms",
};
const CODE_LABELS = {
  DOCUMENT_UNREADABLE: "Unreadable document",
  BATCH_REVOKED: "Revoked",
  DOCUMENT_REVOKED: "Revoked",
  SUPERSEDED: "Replaced by an amended document",
  CONSUMED: "Already used",
  CA_REVOKED: "Authority revoked",
  CA_SUSPENDED: "Authority suspended",
  VERIFIER_NOT_MEMBER: "Not a member",
  NOT_YET_VALID: "Not yet valid",
  EXPIRED: "Expired",
  NOT_DESTINATION: "Not for your country",
  QUANTITY_EXHAUSTED: "Quantity used up",
  CHAIN_UNAVAILABLE: "Ledger unreachable",
  INSUFFICIENT_CONFIRMATIONS: "Too recent to confirm",
};
const WARNING_LABELS = {
  RECOGNITION_WITHDRAWN_SINCE: "Recognition withdrawn since",
  CA_REVOKED_LATER: "Authority revoked since",
  NOT_DESTINATION: "Destined to another country",
};
const VERDICT_SUMMARY = {
  VALID: "Authentic, unchanged and recognized: the document may be accepted.",
  WARNING: "The document may be accepted, but read this first:",
  INVALID: "Do not accept this document:",
  INDETERMINATE: "No decision is possible right now:",
};
// Document types in words, one and several (the catalogue is anchor/doctypes.py).
const DOCUMENT_TYPES = {
  "cites-permit": ["CITES permit", "CITES permits"],
  "cites-certificate": ["CITES certificate", "CITES certificates"],
  "phytosanitary-certificate": ["phytosanitary certificate", "phytosanitary certificates"],
  "certificate-of-origin": ["certificate of origin", "certificates of origin"],
  "veterinary-certificate": ["veterinary certificate", "veterinary certificates"],
  "customs-declaration": ["customs declaration", "customs declarations"],
};
// "Verifying as" this value: the request names no party, and the service verifies for the key's own.
const KEY_PARTY = "";

const $ = (id) => document.getElementById(id);
const state = { document: null, bundle: null, members: null };
let regionNames = null;
try {
  regionNames = new Intl.DisplayNames(["en"], { type: "region" });
} catch {
  regionNames = null;
}

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
    error.code = body && body.code ? body.code : null;
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

// A moment to the minute: "2026-11-30 08:10 UTC".
function formatMinute(seconds) {
  if (!seconds) return "—";
  return `${new Date(seconds * 1000).toISOString().replace("T", " ").slice(0, 16)} UTC`;
}

function formatDuration(seconds) {
  const minutes = Math.round(Math.abs(seconds) / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.round(hours / 24)} days`;
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
  const own = keyParty();
  $("key-box").classList.toggle("has-key", has);
  $("key-summary").textContent = has ? (own ? `API key · ${own}` : "API key set") : "API key";
}

// ---------------------------------------------------------------- the key's party
//
// A key belongs to one party: the service verifies for it when a request names no party, and refuses
// any other party with 403. No endpoint tells a verifier key its party, so the page sends the first
// verification without one, reads the party from the verdict, and remembers it in localStorage under
// the key's public id (ta_<id>_…), never the key itself.

function keyId() {
  const match = /^ta_([0-9a-f]{8})_/.exec(apiKey());
  return match ? match[1] : null;
}

function keyParties() {
  try {
    const known = JSON.parse(localStorage.getItem("ta-key-parties") || "{}");
    return known && typeof known === "object" && !Array.isArray(known) ? known : {};
  } catch {
    return {};
  }
}

function keyParty() {
  const id = keyId();
  const party = id ? keyParties()[id] : null;
  return typeof party === "string" && /^[A-Z0-9]{1,8}$/.test(party) ? party : null;
}

function rememberKeyParty(party) {
  const id = keyId();
  if (!id) return;
  const known = keyParties();
  if (party) known[id] = party;
  else delete known[id];
  try {
    localStorage.setItem("ta-key-parties", JSON.stringify(known));
  } catch {
    // No storage (a private window): the page learns the party again from the next verdict.
  }
}

async function refreshChainStatus() {
  const status = $("chain-status");
  try {
    const response = await fetch("/v1/health/ready");
    const body = await response.json();
    const pack = body.checks && body.checks.trustPack;
    if (pack) {
      // A service running offline: verdicts come from a witnessed trust pack, as of its checkpoint.
      status.textContent = pack.ok
        ? `Offline · trust pack of ${formatMinute(pack.blockTime)}, ${ageText(pack.ageSeconds)} old`
        : `Offline · trust pack not usable (${pack.code || "see /v1/health/ready"})`;
      status.className = pack.ok ? "chain-status offline" : "chain-status down";
      return;
    }
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

let partiesAsked = 0;

async function loadParties(keepChoice = true) {
  const select = $("party");
  const chosen = keepChoice ? select.value : null;
  const asked = ++partiesAsked; // an answer to an earlier key (or none) must not win over this one
  try {
    const body = await api("/v1/registry/parties");
    if (asked !== partiesAsked) return;
    state.members = body.parties.filter((x) => x.member).map((x) => x.party);
    fillParties(chosen);
  } catch (error) {
    if (asked !== partiesAsked) return;
    state.members = null;
    select.replaceChildren(new Option(error.status === 401 ? "Set an API key first" : "Parties unavailable", ""));
    $("party-hint").textContent = "";
  }
  updateVerifyButton();
}

// The member parties, with the key's own party chosen: by its code once known, else left to the service.
function fillParties(chosen) {
  const select = $("party");
  const members = state.members || [];
  const own = keyParty();
  select.replaceChildren();
  if (!apiKey()) select.append(new Option("Choose your country", ""));
  else if (!(own && members.includes(own))) select.append(new Option("This key's party", KEY_PARTY));
  for (const party of members) select.append(new Option(party, party));
  const values = [...select.options].map((o) => o.value);
  if (chosen !== null && chosen !== undefined && values.includes(chosen)) select.value = chosen;
  else select.value = own && members.includes(own) ? own : values[0];
  updatePartyHint();
  updateVerifyButton();
}

function updatePartyHint() {
  const value = $("party").value;
  const own = keyParty();
  let hint = "";
  if (apiKey() && value === KEY_PARTY) hint = "The party this API key belongs to.";
  else if (own && value === own) hint = "This API key's party.";
  else if (own && value) hint = `This API key verifies for ${own} only.`;
  $("party-hint").textContent = hint;
}

// ---------------------------------------------------------------- files

function setFile(kind, file) {
  state[kind] = file;
  if (kind === "bundle") {
    $("bundle-for").hidden = true;
    showBundleTarget(file);
  }
  const drop = $(`drop-${kind}`);
  drop.classList.toggle("filled", Boolean(file));
  $(`${kind}-name`).textContent = file
    ? `${file.name} · ${(file.size / 1024).toFixed(1)} KB`
    : kind === "document"
      ? "Drop the file here or click to choose"
      : "The .bundle.json file issued with it";
  updateVerifyButton();
}

// Under the dropped bundle, the document it was issued for: a wrong pair shows before verifying.
async function showBundleTarget(file) {
  const info = file ? await readBundle(file) : null;
  const doc = info && info.document && typeof info.document === "object" ? info.document : null;
  if (state.bundle !== file) return;
  const name = doc && typeof doc.name === "string" ? doc.name : "";
  $("bundle-for").textContent = name ? `for ${name}` : "";
  $("bundle-for").hidden = !name;
}

// The dropped bundle, parsed for what it states (issuer, type, certificates). Only the verdict says
// whether that holds; a file that is not a JSON object gives null, and the service says why.
async function readBundle(file) {
  try {
    const bundle = JSON.parse(await file.text());
    return bundle && typeof bundle === "object" && !Array.isArray(bundle) ? bundle : null;
  } catch {
    return null;
  }
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
  // With a key, "This key's party" (an empty value) is a choice; without one a party must be chosen.
  const party = $("party").value || (apiKey() && state.members ? KEY_PARTY : null);
  $("verify-button").disabled = !(state.document && state.bundle && party !== null);
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
  // What was sent, kept with the verdict: files dropped while it runs do not change what it is about.
  const sent = { document: state.document, bundle: state.bundle, party: $("party").value };
  const form = new FormData();
  form.append("document", sent.document, sent.document.name);
  form.append("bundle", sent.bundle, sent.bundle.name);
  if (sent.party) form.append("verifyingParty", sent.party);
  try {
    const [verdict, bundle] = await Promise.all([
      api("/v1/verify/upload", { method: "POST", body: form }),
      readBundle(sent.bundle),
    ]);
    learnKeyParty(verdict.verifyingParty);
    renderVerdict(verdict, { ...sent, info: bundle, receivedAt: Date.now() / 1000 });
  } catch (error) {
    $("result").hidden = true;
    if (error.code === "PARTY_NOT_ALLOWED" && apiKey()) {
      // The key belongs to another party than the one chosen: go back to the key's own.
      rememberKeyParty(null);
      refreshKeyState();
      fillParties(KEY_PARTY);
      showFormError(`This API key cannot verify as ${sent.party}. "Verifying as" is now this key's own party: press Verify again.`);
    } else {
      showFormError(error.message);
    }
  } finally {
    button.textContent = "Verify";
    updateVerifyButton();
  }
}

function learnKeyParty(party) {
  if (!apiKey() || !party || party === keyParty()) return;
  rememberKeyParty(party);
  refreshKeyState();
  fillParties(party);
}

// ---------------------------------------------------------------- the verdict

function renderVerdict(v, sent) {
  const info = sent.info || {};
  const checks = Array.isArray(v.checks) ? v.checks : [];
  const failed = checks.filter((c) => c.status === "INVALID");
  const errors = checks.filter((c) => c.status === "ERROR");
  const warnings = checks.filter((c) => c.warning);
  const kind = v.verdict === "VALID" && warnings.length ? "WARNING" : v.verdict;
  const mismatch = fileMismatch(sent.document, info);

  $("result").hidden = false;
  $("verdict").className = `verdict ${kind}`;
  $("verdict-word").textContent = v.verdict;
  $("verdict-tag").textContent = kind === "WARNING" ? "with a warning" : "";
  $("verdict-tag").hidden = kind !== "WARNING";
  $("verdict-summary").textContent = VERDICT_SUMMARY[kind] || "";

  // The headline: each failed check (or warning, or unreadable one) by name, with its own sentence.
  const reasons = $("verdict-reasons");
  reasons.replaceChildren();
  const named = v.verdict === "INVALID" ? failed : v.verdict === "INDETERMINATE" ? errors : warnings;
  for (const check of named) {
    const item = el("li", "reason");
    item.dataset.check = check.name;
    item.append(el("strong", "reason-label", `${reasonLabel(check)}: `), el("span", null, sentence(words(check.message))));
    if (check.name === "integrity" && mismatch) item.append(el("span", "reason-extra", ` ${mismatch}`));
    reasons.append(item);
  }
  const integrityFailed = failed.some((c) => c.name === "integrity");
  $("file-note").textContent = mismatch && !integrityFailed ? mismatch : "";
  $("file-note").hidden = !mismatch || integrityFailed;

  // Facts an officer checks against the consignment. Read from the bundle, they are only verified
  // when the verdict is VALID, and the caption says so.
  $("facts-caption").textContent =
    v.verdict === "VALID" ? "Verified facts" : "As the bundle states them: not verified";
  const facts = $("verdict-facts");
  facts.replaceChildren();
  for (const [term, value, key] of factRows(v, sent, info)) {
    const wrap = el("div");
    if (key) wrap.dataset.fact = key;
    wrap.append(el("dt", null, term), el("dd", null, value));
    facts.append(wrap);
  }
  const clock = clockNote(v.chain && v.chain.readAtTime, sent.receivedAt);
  $("clock-note").textContent = clock;
  $("clock-note").hidden = !clock;

  const list = $("checks");
  list.replaceChildren();
  for (const check of checks) {
    const item = el("li", "check");
    item.dataset.check = check.name;
    const status = check.warning ? "WARNING" : check.status;
    item.append(el("span", `badge ${status}`, check.warning ? "VALID · NOTE" : check.status));
    const name = el("div", "check-name", CHECK_LABELS[check.name] || check.name);
    const plain = check.status === "VALID" && !check.warning ? PASSED[check.code] : null;
    if (!plain) name.append(el("span", "check-code", check.code));
    item.append(name, el("div", "check-message", plain || sentence(words(check.message))));
    list.append(item);
  }
  renderDetails(v, sent, info, checks);
  $("verdict-details").open = false;
  $("result").scrollIntoView({ block: "nearest" });
}

function reasonLabel(check) {
  if (check.warning) return WARNING_LABELS[check.code] || "Note";
  return CODE_LABELS[check.code] || FAILED_LABELS[check.name] || CHECK_LABELS[check.name] || check.name;
}

function factRows(v, sent, info) {
  const anchor = info.anchor && typeof info.anchor === "object" ? info.anchor : {};
  const doc = info.document && typeof info.document === "object" ? info.document : {};
  const signer = signerSubject(info);
  const rows = [];
  const party = typeof anchor.party === "string" ? partyName(anchor.party) : null;
  const authority = [signer.O, party].filter(Boolean).join(" · ");
  rows.push(["Issued by", authority || "—", "issuer"]);
  rows.push(["Document type", typeName(doc.documentType) || "—", "type"]);
  const issuedAt = v.anchoredAt || (Number.isInteger(anchor.blockTime) ? anchor.blockTime : null);
  rows.push(["Issued", issuedAt ? `${formatMinute(issuedAt)} (ledger time)` : "—", "issued"]);
  rows.push(...termRows(v.terms || {}));
  rows.push(["Document", sent.document.name, "document"]);
  rows.push(["Verified as", partyName(v.verifyingParty), "party"]);
  const readAt = v.chain && v.chain.readAtTime;
  const asOf = v.details && v.details.asOf;
  if (asOf) {
    const by = Array.isArray(asOf.witnesses) && asOf.witnesses.length ? ` · witnessed by ${asOf.witnesses.join(", ")}` : "";
    rows.push([
      "Checked as of",
      `${formatMinute(asOf.blockTime)} (ledger time, ${ageText(asOf.ageSeconds)} old, offline trust pack)${by}`,
      "checked",
    ]);
  } else {
    rows.push(["Checked at", readAt ? `${formatMinute(readAt)} (ledger time)` : "—", "checked"]);
  }
  return rows;
}

// How old a checkpoint is, as an officer says it: "45 min", "3 h 20 min", "2 d 4 h".
function ageText(seconds) {
  const s = Math.max(0, Number(seconds) || 0);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min`;
  return `${s} s`;
}

// The terms the issuer committed in the leaf, as facts an officer checks against the consignment.
function termRows(t) {
  const rows = [];
  if (t.destination) rows.push(["Destined to", partyName(t.destination), "destination"]);
  if (t.validFrom || t.validUntil) {
    const from = t.validFrom ? formatTime(t.validFrom) : "from issue";
    const until = t.validUntil ? formatTime(t.validUntil) : "open";
    rows.push(["Valid (ledger time)", `${from} – ${until}`, "validity"]);
  }
  if (t.quantity) {
    const unit = t.unit ? ` ${t.unit}` : "";
    const left = t.remaining != null ? `${t.remaining}${unit} of ${t.quantity}${unit} remain` : `${t.quantity}${unit}`;
    rows.push(["Quantity", left, "quantity"]);
  }
  return rows;
}

// The verdict judges time by the ledger's clock. Where that clock and this computer's disagree by
// more than a minute, the officer is told which one the dates above are in.
function clockNote(ledgerTime, localTime) {
  if (!ledgerTime || !localTime) return "";
  const skew = ledgerTime - localTime;
  if (Math.abs(skew) <= 60) return "";
  const direction = skew > 0 ? "ahead of" : "behind";
  return (
    `Ledger time was ${formatMinute(ledgerTime)} when this was checked, ${formatDuration(skew)} ${direction} ` +
    `this computer's clock (${formatMinute(localTime)}). Validity is judged by ledger time.`
  );
}

// When the dropped file is not the one the bundle names: the bundle's name and media type beside the
// file's. A renamed copy of the right document still verifies; another document gives a digest mismatch.
function fileMismatch(file, info) {
  const doc = info && info.document && typeof info.document === "object" ? info.document : null;
  if (!file || !doc || typeof doc.name !== "string") return "";
  const wanted = typeof doc.mediaType === "string" ? doc.mediaType : "";
  const given = file.type || "";
  const otherType = wanted && given && baseType(wanted) !== baseType(given);
  if (doc.name === file.name && !otherType) return "";
  const theirs = wanted ? `${doc.name} (${wanted})` : doc.name;
  const ours = otherType ? `${file.name} (${given})` : file.name;
  return `This bundle is for ${theirs}; you dropped ${ours}.`;
}

function baseType(mediaType) {
  const type = mediaType.split(";")[0].trim().toLowerCase();
  return type === "text/xml" ? "application/xml" : type === "text/json" ? "application/json" : type;
}

function renderDetails(v, sent, info, checks) {
  const doc = info.document && typeof info.document === "object" ? info.document : {};
  const proof = info.proof && typeof info.proof === "object" ? info.proof : {};
  const batch = info.batch && typeof info.batch === "object" ? info.batch : {};
  const anchor = info.anchor && typeof info.anchor === "object" ? info.anchor : {};
  const signer = signerSubject(info);
  const chain = v.chain || {};
  const rows = [
    ["Issued as", [v.document, doc.mediaType ? `(${doc.mediaType})` : ""].filter(Boolean).join(" ")],
    ["Proof bundle file", sent.bundle.name],
    ["Document digest", doc.digest ? `${doc.digest} (${doc.canonicalization || "?"})` : null],
    ["Place in batch", Number.isInteger(proof.index) ? `leaf ${proof.index} of a ${proof.treeSize}-document batch` : null],
    ["Batch root", batch.root],
    ["Signature", batch.signature && batch.signature.alg],
    ["Signing certificate", [signer.CN, signer.O].filter(Boolean).join(", ") || null],
    ["Issuer account", anchor.issuer],
    ["Anchoring transaction", anchor.transactionHash],
    ["Anchored in block", anchor.blockNumber != null ? `${anchor.blockNumber} · ${anchor.blockHash || ""}` : null],
    ["Registry", anchor.registry ? `${anchor.registry} on chain ${anchor.chainId}` : null],
    [
      "Ledger read at",
      chain.readAtBlock != null
        ? `block ${chain.readAtBlock} · ${chain.readAtBlockHash || ""} · ${formatTime(chain.readAtTime)}`
        : null,
    ],
  ];
  const list = $("details-list");
  list.replaceChildren();
  for (const [term, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    const wrap = el("div");
    wrap.append(el("dt", null, term), el("dd", "mono", value));
    list.append(wrap);
  }
  const wrap = el("div", "tech-checks");
  const messages = el("ul", "history");
  for (const check of checks) messages.append(el("li", null, `${check.name} · ${check.code} · ${check.message}`));
  const dd = el("dd");
  dd.append(messages);
  wrap.append(el("dt", null, "Checks as the verifier wrote them"), dd);
  list.append(wrap);
}

// ---------------------------------------------------------------- words

function typeName(slug, several = false) {
  if (typeof slug !== "string" || !slug) return null;
  const known = DOCUMENT_TYPES[slug];
  if (known) return known[several ? 1 : 0];
  const number = /^type-(\d+)$/.exec(slug);
  return number ? `document type ${number[1]}` : slug;
}

// A party code with its country's name where it is one ("TH" -> "Thailand (TH)").
function partyName(code) {
  if (typeof code !== "string" || !code) return "—";
  if (!/^[A-Z]{2}$/.test(code) || !regionNames) return code;
  try {
    const name = regionNames.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

// Document type slugs in a check's sentence, in words: "for veterinary-certificate" reads "for
// veterinary certificates". Only a slug standing alone: never inside a file name (cites-permit-7.json).
function words(message) {
  let text = String(message || "");
  for (const slug of Object.keys(DOCUMENT_TYPES)) {
    const alone = `(?<![\\w./-])${slug}(?![\\w/-]|\\.\\w)`;
    text = text.replace(new RegExp(`\\b(for|anchor) ${alone}`, "g"), (_, word) => `${word} ${typeName(slug, true)}`);
    text = text.replace(new RegExp(alone, "g"), typeName(slug));
  }
  return text;
}

function sentence(message) {
  if (!message) return "";
  // Capitalize a plain first word ("the document …"), not an identifier ("ecdsa-sha256 …").
  const first = message.split(" ", 1)[0];
  const text = /^[a-z][a-z-]*$/.test(first) ? message.charAt(0).toUpperCase() + message.slice(1) : message;
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

// ---------------------------------------------------------------- the signer's certificate
//
// Just enough DER to read the subject of the bundle's first certificate (the document signer): its
// organization (O) and common name (CN). Every length is checked against its parent; anything
// unexpected gives no name rather than a wrong one. The service verified the certificate, not this code.

function signerSubject(info) {
  const certs = info && info.batch && Array.isArray(info.batch.certificates) ? info.batch.certificates : [];
  if (typeof certs[0] !== "string") return {};
  try {
    return certificateSubject(Uint8Array.from(atob(certs[0]), (c) => c.charCodeAt(0)));
  } catch {
    return {};
  }
}

function derNode(bytes, pos, end) {
  if (pos + 2 > end) throw new Error("truncated");
  const tag = bytes[pos];
  let length = bytes[pos + 1];
  let header = 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count < 1 || count > 3 || pos + 2 + count > end) throw new Error("bad length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[pos + 2 + i];
    header += count;
  }
  const start = pos + header;
  if (start + length > end) throw new Error("truncated");
  return { tag, start, end: start + length };
}

function derChildren(bytes, node) {
  const children = [];
  for (let pos = node.start; pos < node.end; ) {
    const child = derNode(bytes, pos, node.end);
    children.push(child);
    pos = child.end;
  }
  return children;
}

const NAME_OIDS = { "85.4.10": "O", "85.4.3": "CN" }; // 2.5.4.10 organizationName, 2.5.4.3 commonName

function certificateSubject(bytes) {
  const certificate = derNode(bytes, 0, bytes.length);
  const tbs = derChildren(bytes, certificate)[0];
  let fields = derChildren(bytes, tbs);
  if (fields[0] && fields[0].tag === 0xa0) fields = fields.slice(1); // [0] version
  const subject = fields[4]; // serialNumber, signature, issuer, validity, subject
  const names = {};
  if (!subject || subject.tag !== 0x30) return names;
  for (const rdn of derChildren(bytes, subject)) {
    for (const attribute of derChildren(bytes, rdn)) {
      const [oid, value] = derChildren(bytes, attribute);
      if (!oid || !value || oid.tag !== 0x06) continue;
      const name = NAME_OIDS[bytes.subarray(oid.start, oid.end).join(".")];
      if (name && !(name in names)) names[name] = derText(bytes, value);
    }
  }
  return names;
}

function derText(bytes, node) {
  const raw = bytes.subarray(node.start, node.end);
  // UTF8String; BMPString; PrintableString, IA5String, TeletexString as single bytes.
  const encoding = node.tag === 0x0c ? "utf-8" : node.tag === 0x1e ? "utf-16be" : "latin1";
  return new TextDecoder(encoding).decode(raw).replace(/[\u0000-\u001f\u007f]/g, "").slice(0, 200);
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
    loadParties(false); // a new key: "Verifying as" starts from that key's party, not the last choice
    if (!$("view-registry").hidden) loadRegistry();
  });
  wireDrop("document");
  wireDrop("bundle");
  $("party").addEventListener("change", () => {
    updatePartyHint();
    updateVerifyButton();
  });
  $("verify-form").addEventListener("submit", verify);
  $("asof-form").addEventListener("submit", loadRegistry);
  refreshKeyState();
  refreshChainStatus();
  setInterval(refreshChainStatus, 15000);
  loadParties();
}

start();
