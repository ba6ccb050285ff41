// The topology graph: clusters as boxes in columns (sources left, their targets to the right),
// links as arrows coloured by health and labelled with live lag and throughput.
import { svgEl } from "./chart.js";
import { formatCount, healthClass } from "./format.js";

const COLORS = { ok: "#1f9d55", paused: "#6b7280", lagging: "#d97706", bad: "#dc2626" };
const NODE_W = 170;
const NODE_H = 54;

/** Column of each cluster: the longest chain of links leading to it. */
function columns(clusters, links) {
  const col = new Map(clusters.map((c) => [c.name, 0]));
  for (let round = 0; round < clusters.length; round++) {
    let changed = false;
    for (const l of links) {
      const next = (col.get(l.source) ?? 0) + 1;
      if (l.source !== l.target && next > (col.get(l.target) ?? 0) && next < clusters.length) {
        col.set(l.target, next);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return col;
}

export function drawGraph(svg, clusters, links) {
  const width = svg.clientWidth || 900;
  const height = svg.clientHeight || 300;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const defs = svgEl("defs");
  for (const [name, color] of Object.entries(COLORS)) {
    const marker = svgEl("marker", {
      id: `arrow-${name}`,
      viewBox: "0 0 10 10",
      refX: 10,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: "auto-start-reverse",
    });
    marker.append(svgEl("path", { d: "M0,0 L10,5 L0,10 z", fill: color }));
    defs.append(marker);
  }
  svg.append(defs);
  const col = columns(clusters, links);
  const ncols = Math.max(1, ...[...col.values()].map((c) => c + 1));
  const byCol = new Map();
  for (const c of clusters) {
    const k = col.get(c.name) ?? 0;
    if (!byCol.has(k)) byCol.set(k, []);
    byCol.get(k).push(c);
  }
  const pos = new Map();
  for (const [k, list] of byCol) {
    list.forEach((c, i) => {
      const cx = ((k + 0.5) * width) / ncols;
      const cy = ((i + 0.5) * height) / list.length;
      pos.set(c.name, { x: cx - NODE_W / 2, y: cy - NODE_H / 2, cx, cy });
    });
  }
  for (const l of links) {
    const a = pos.get(l.source);
    const b = pos.get(l.target);
    if (!a || !b) continue;
    const cls = healthClass(l.health);
    const x1 = a.x + NODE_W;
    const y1 = a.cy;
    const x2 = b.x;
    const y2 = b.cy;
    const mx = (x1 + x2) / 2;
    const g = svgEl("g", { "data-edge": l.name });
    g.append(
      svgEl("path", {
        d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2 - 2},${y2}`,
        fill: "none",
        stroke: COLORS[cls],
        "stroke-width": 3,
        "stroke-dasharray": l.state === "paused" || l.state === "down" ? "6 5" : "none",
        "marker-end": `url(#arrow-${cls})`,
      }),
    );
    const label = svgEl("text", {
      x: mx,
      y: (y1 + y2) / 2 - 6,
      "text-anchor": "middle",
      "font-size": 11,
      fill: "#1f2937",
      "data-edge-label": l.name,
    });
    label.textContent = `${l.name} · lag ${formatCount(l.lag)} · ${formatCount(l.recordsPerSec)}/s`;
    const bg = svgEl("rect", { fill: "#fff", "fill-opacity": 0.85 });
    g.append(bg, label);
    svg.append(g);
    const box = label.getBBox();
    bg.setAttribute("x", box.x - 3);
    bg.setAttribute("y", box.y - 1);
    bg.setAttribute("width", box.width + 6);
    bg.setAttribute("height", box.height + 2);
  }
  for (const c of clusters) {
    const p = pos.get(c.name);
    const cls = healthClass(c.health);
    const g = svgEl("g", { "data-node": c.name });
    g.append(
      svgEl("rect", {
        x: p.x,
        y: p.y,
        width: NODE_W,
        height: NODE_H,
        rx: 8,
        fill: "#fff",
        stroke: COLORS[cls],
        "stroke-width": 2.5,
      }),
    );
    const title = svgEl("text", {
      x: p.cx,
      y: p.y + 21,
      "text-anchor": "middle",
      "font-size": 14,
      "font-weight": 600,
    });
    title.textContent = c.name;
    const sub = svgEl("text", {
      x: p.cx,
      y: p.y + 39,
      "text-anchor": "middle",
      "font-size": 11,
      fill: "#6b7280",
    });
    sub.textContent = c.site ?? c.bootstrap;
    g.append(title, sub);
    svg.append(g);
  }
}
