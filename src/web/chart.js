// Small SVG line charts for the dashboard: one series, time on x, auto-scaled y with a max label.
const NS = "http://www.w3.org/2000/svg";

/** Makes an SVG element with attributes. */
export function svgEl(name, attrs = {}) {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * Draws points [{t, v}] into `svg` (replacing what was there), over the last `windowMs`.
 * `format` turns a value into a label.
 */
export function drawLineChart(svg, points, { windowMs = 300_000, color = "#2563eb", format = String } = {}) {
  const width = svg.clientWidth || 300;
  const height = svg.clientHeight || 90;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const pad = { left: 4, right: 4, top: 14, bottom: 4 };
  const now = Date.now();
  // Until there are minutes of history, the x axis spans what there is (at least 30 s).
  const first = points.length > 0 ? points[0].t : now;
  const span = Math.min(windowMs, Math.max(30_000, now - first));
  const from = now - span;
  const shown = points.filter((p) => p.t >= from);
  const max = Math.max(1, ...shown.map((p) => p.v));
  const x = (t) => pad.left + ((t - from) / span) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  svg.append(
    svgEl("line", { x1: pad.left, x2: width - pad.right, y1: y(0), y2: y(0), stroke: "#e5e7eb" }),
    svgEl("line", { x1: pad.left, x2: width - pad.right, y1: y(max), y2: y(max), stroke: "#f1f5f9" }),
  );
  const label = svgEl("text", {
    x: width - pad.right,
    y: 10,
    "text-anchor": "end",
    "font-size": 10,
    fill: "#6b7280",
  });
  label.textContent = `max ${format(max)}`;
  svg.append(label);
  if (shown.length < 2) return;
  const d = shown.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
  const area = `${d} L${x(shown[shown.length - 1].t).toFixed(1)},${y(0)} L${x(shown[0].t).toFixed(1)},${y(0)} Z`;
  svg.append(
    svgEl("path", { d: area, fill: color, "fill-opacity": 0.12, stroke: "none" }),
    svgEl("path", { d, fill: "none", stroke: color, "stroke-width": 1.5 }),
  );
  const last = shown[shown.length - 1];
  const now_ = svgEl("text", { x: pad.left + 2, y: 10, "font-size": 10, fill: color });
  now_.textContent = `now ${format(last.v)}`;
  svg.append(now_);
}
