// The dashboard's main module: polls the control plane's API once a second and renders the
// topology graph, one card per link (charts, pause/resume) and the partition table.
import { drawLineChart } from "./chart.js";
import { formatBytes, formatCount, formatMs, healthClass } from "./format.js";
import { drawGraph } from "./graph.js";

const POLL_MS = 1_000;
const WINDOW_MS = 5 * 60_000;
const history = new Map(); // link -> samples [{t, records, bytes, lag, rpoMs}]
const cards = new Map(); // link -> elements
let selected = null;
let lastStatus = null;

// A control plane listening beyond loopback wants a bearer token. Open the dashboard once as
// /#token=TOKEN: the token moves to sessionStorage (this tab only) and leaves the address bar.
const TOKEN_KEY = "ferry-api-token";
const fromHash = /^#token=(.+)$/.exec(window.location.hash);
if (fromHash) {
  window.sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(fromHash[1]));
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
}

async function getJson(path, init = {}) {
  const token = window.sessionStorage.getItem(TOKEN_KEY);
  const headers = token ? { ...init.headers, authorization: `Bearer ${token}` } : init.headers;
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) throw new Error(`${path}: HTTP 401 (open the dashboard as /#token=YOUR_TOKEN)`);
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res.json();
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else e.setAttribute(k, v);
  }
  e.append(...children);
  return e;
}

function stat(label, field, linkName) {
  const b = el("b", { "data-field": field, "data-link": linkName });
  return [el("span", {}, `${label} `, b), b];
}

function makeCard(link) {
  const card = el("div", { class: "link-card", "data-link": link.name, "data-testid": `link-${link.name}` });
  const state = el("span", { class: "badge", "data-link-state": link.name });
  const button = el("button", { "data-action": "toggle", "data-link": link.name, type: "button" });
  button.addEventListener("click", async () => {
    const current = lastStatus?.links.find((l) => l.name === link.name);
    const action = current?.state === "paused" ? "resume" : "pause";
    button.disabled = true;
    try {
      await getJson(`/api/links/${encodeURIComponent(link.name)}/${action}`, { method: "POST" });
      await refresh();
    } finally {
      button.disabled = false;
    }
  });
  const route = el("span", { class: "muted" });
  const [lagSpan, lag] = stat("lag", "lag", link.name);
  const [rpoSpan, rpo] = stat("RPO", "rpo", link.name);
  const [rateSpan, rate] = stat("rate", "rate", link.name);
  const [copiedSpan, copied] = stat("copied", "copied", link.name);
  const reason = el("div", { class: "reason" });
  const chart = (title) => {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("class", "chart");
    return [el("div", {}, el("div", { class: "chart-title", text: title }), svg), svg];
  };
  const [tBox, tSvg] = chart("throughput (records/s)");
  const [lBox, lSvg] = chart("lag (records)");
  const [rBox, rSvg] = chart("RPO (s)");
  card.append(
    el("div", { class: "link-head" }, el("strong", { text: link.name }), route, state, button),
    el("div", { class: "stats" }, lagSpan, rpoSpan, rateSpan, copiedSpan),
    reason,
    el("div", { class: "charts" }, tBox, lBox, rBox),
  );
  document.getElementById("links").append(card);
  const parts = { card, state, button, route, lag, rpo, rate, copied, reason, tSvg, lSvg, rSvg };
  cards.set(link.name, parts);
  return parts;
}

function updateCard(link) {
  const c = cards.get(link.name) ?? makeCard(link);
  c.card.className = `link-card ${link.health}`;
  c.route.textContent = `${link.source} → ${link.target}${link.prefix ? ` (prefix ${link.prefix})` : ""} · ${link.mode}`;
  const stateText = link.state === "paused" && link.pausedBy === "outage" ? "paused (outage)" : link.state;
  c.state.textContent = stateText;
  c.state.className = `badge ${healthClass(link.state === "running" ? link.health : link.state)}`;
  c.button.textContent = link.state === "paused" ? "Resume" : "Pause";
  c.lag.textContent = formatCount(link.lag);
  c.rpo.textContent = formatMs(link.rpoMs);
  c.rate.textContent = `${formatCount(link.recordsPerSec)}/s`;
  c.copied.textContent = `${formatCount(link.records)} (${formatBytes(link.bytes)})`;
  const backlog =
    link.state === "running" && link.backlog && link.backlog.doneAt === null
      ? `catching up: ${formatCount(link.backlog.copied)} of ${formatCount(link.backlog.toCopy)} records`
      : "";
  c.reason.textContent =
    link.health === "ok" || link.health === "paused" ? backlog : `${link.health}: ${link.reasons.join("; ")}`;
  const samples = history.get(link.name) ?? [];
  const rate = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (b.t > a.t) rate.push({ t: b.t, v: Math.max(0, ((b.records - a.records) * 1000) / (b.t - a.t)) });
  }
  drawLineChart(c.tSvg, rate, { windowMs: WINDOW_MS, color: "#2563eb", format: formatCount });
  drawLineChart(
    c.lSvg,
    samples.map((s) => ({ t: s.t, v: s.lag })),
    { windowMs: WINDOW_MS, color: "#d97706", format: formatCount },
  );
  drawLineChart(
    c.rSvg,
    samples.map((s) => ({ t: s.t, v: s.rpoMs / 1000 })),
    { windowMs: WINDOW_MS, color: "#dc2626", format: (v) => v.toFixed(1) },
  );
}

async function updateHistory(links) {
  await Promise.all(
    links.map(async (l) => {
      const known = history.get(l.name) ?? [];
      const since = known.length > 0 ? known[known.length - 1].t : Date.now() - WINDOW_MS;
      const answer = await getJson(`/api/links/${encodeURIComponent(l.name)}/history?since=${since}`);
      const merged = known.concat(answer.samples).filter((s) => s.t >= Date.now() - WINDOW_MS);
      history.set(l.name, merged);
    }),
  );
}

async function updatePartitions() {
  const box = document.getElementById("partitions");
  if (selected === null) {
    box.replaceChildren(el("p", { class: "muted", text: "no links" }));
    return;
  }
  const detail = await getJson(`/api/links/${encodeURIComponent(selected)}`);
  const rows = [];
  for (const t of detail.status?.topics ?? []) {
    for (const p of t.partitions) {
      rows.push(
        el(
          "tr",
          {},
          el("td", { text: t.source }),
          el("td", { text: t.target }),
          el("td", { class: "num", text: String(p.partition) }),
          el("td", { class: "num", text: String(p.sourceEnd) }),
          el("td", { class: "num", text: String(p.copiedOffset) }),
          el("td", { class: "num", text: String(p.lag) }),
          el("td", { class: "num", text: formatMs(p.rpoMs) }),
          el("td", { class: "num", text: formatCount(p.recordsCopied) }),
          el("td", {
            text: (detail.state === "paused" ? "paused" : p.state) + (p.error ? `: ${p.error}` : ""),
          }),
        ),
      );
    }
  }
  const head = el(
    "tr",
    {},
    ...[
      "topic",
      "target topic",
      "partition",
      "source end",
      "copied to",
      "lag",
      "RPO",
      "records",
      "state",
    ].map((h, i) => el("th", { class: i >= 2 && i <= 7 ? "num" : "", text: h })),
  );
  box.replaceChildren(
    rows.length === 0
      ? el("p", { class: "muted", text: "no partitions attached yet" })
      : el("table", { "data-testid": "partition-table" }, el("thead", {}, head), el("tbody", {}, ...rows)),
  );
}

function updateSelect(links) {
  const select = document.getElementById("link-select");
  const names = links.map((l) => l.name);
  if (selected === null || !names.includes(selected)) selected = names[0] ?? null;
  if ([...select.options].map((o) => o.value).join() !== names.join()) {
    select.replaceChildren(...names.map((n) => el("option", { value: n, text: n })));
  }
  if (selected !== null) select.value = selected;
}

async function refresh() {
  const status = await getJson("/api/status");
  lastStatus = status;
  const overall = document.getElementById("overall");
  overall.textContent = status.healthy ? "healthy" : "unhealthy";
  overall.className = `badge ${status.healthy ? "ok" : "bad"}`;
  document.getElementById("summary").textContent =
    `${status.clusters.length} clusters · ${status.links.length} links` +
    (status.lastError ? ` · last error: ${status.lastError.message}` : "");
  await updateHistory(status.links);
  drawGraph(document.getElementById("graph"), status.clusters, status.links);
  for (const link of status.links) updateCard(link);
  for (const [name, c] of cards) {
    if (!status.links.some((l) => l.name === name)) {
      c.card.remove();
      cards.delete(name);
    }
  }
  updateSelect(status.links);
  await updatePartitions();
  document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
}

document.getElementById("link-select").addEventListener("change", (e) => {
  selected = e.target.value;
  void updatePartitions();
});

async function loop() {
  try {
    await refresh();
  } catch (e) {
    const overall = document.getElementById("overall");
    overall.textContent = "control plane unreachable";
    overall.className = "badge bad";
    console.warn(e);
  }
  setTimeout(loop, POLL_MS);
}
void loop();
