// Hand-drawn canvas charts: scales, a frame with ticks and grid, marker shapes, and plots/attractors.png's colours.
"use strict";

// colour is the model, as in every figure of the pipeline; the shape says it again, for readers who can't tell
const MODEL_STYLE = {
  rnn: { color: "#1f77b4", marker: "circle" },
  lstm: { color: "#ff7f0e", marker: "square" },
  gru: { color: "#2ca02c", marker: "triangle" },
};
const DROPPED_STYLES = [{ color: "#9467bd", marker: "diamond" }, { color: "#8c564b", marker: "cross" },
                        { color: "#e377c2", marker: "star" }, { color: "#17becf", marker: "diamond" }];
const INK = "#333", GRID = "rgba(0, 0, 0, 0.09)", RULE = "#888";
// matplotlib's coolwarm at 0, 1/8, ..., 1: the fixed points' P(a -1 was seen), as in plots/attractors.png
const COOLWARM = ["#3b4cc0", "#6282ea", "#8db0fe", "#b9d0f9", "#dddcdc", "#f5c4ac", "#f4987a", "#dd5f4b", "#b40426"];

/** The canvas at `width` x `height` CSS pixels, sharp on any screen; its 2D context, scaled to CSS pixels. */
function sizeCanvas(canvas, width, height) {
  const ratio = window.devicePixelRatio || 1;
  if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(height * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return ctx;
}

/** A linear map from [d0, d1] to [r0, r1], with .invert and its domain. */
function linear(d0, d1, r0, r1) {
  const k = (r1 - r0) / (d1 - d0 || 1);
  const f = (v) => r0 + (v - d0) * k;
  f.invert = (r) => d0 + (r - r0) / k;
  f.domain = [d0, d1];
  f.log = false;
  return f;
}

/** A log10 map from [d0, d1] (both > 0) to [r0, r1]. */
function logarithmic(d0, d1, r0, r1) {
  const inner = linear(Math.log10(d0), Math.log10(d1), r0, r1);
  const f = (v) => inner(Math.log10(v));
  f.invert = (r) => 10 ** inner.invert(r);
  f.domain = [d0, d1];
  f.log = true;
  return f;
}

/** About `count` round tick values inside [lo, hi]; integers only if `integers`. */
function ticks(lo, hi, count, integers = false) {
  const raw = (hi - lo) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  let stepSize = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) || 10 * mag;
  if (integers) stepSize = Math.max(1, Math.round(stepSize));
  const out = [];
  for (let v = Math.ceil(lo / stepSize) * stepSize; v <= hi + 1e-9; v += stepSize) out.push(+v.toFixed(10));
  return out;
}

const fmt = (v) => (Math.abs(v) >= 1000 ? v.toLocaleString("en-US") : String(+v.toFixed(4)));

/** Grid, axes, tick labels and axis titles; x and y are scales onto the plot area. */
function drawFrame(ctx, area, x, y, { xTicks, yTicks, xLabel, yLabel }) {
  ctx.save();
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = INK;
  ctx.strokeStyle = GRID;
  ctx.lineWidth = 1;
  ctx.textAlign = "center";
  ctx.textBaseline = "top";
  for (const v of xTicks) {
    const px = Math.round(x(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(px, area.top);
    ctx.lineTo(px, area.bottom);
    ctx.stroke();
    ctx.fillText(x.log ? fmt(v) : fmt(v), px, area.bottom + 5);
  }
  ctx.textAlign = "right";
  ctx.textBaseline = "middle";
  for (const v of yTicks) {
    const py = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(area.left, py);
    ctx.lineTo(area.right, py);
    ctx.stroke();
    ctx.fillText(fmt(v), area.left - 6, py);
  }
  ctx.strokeStyle = "#999";
  ctx.strokeRect(area.left + 0.5, area.top + 0.5, area.right - area.left, area.bottom - area.top);
  ctx.textAlign = "center";
  ctx.textBaseline = "bottom";
  ctx.fillText(xLabel, (area.left + area.right) / 2, area.bottom + 36);
  ctx.translate(area.left - 42, (area.top + area.bottom) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = "top";
  ctx.fillText(yLabel, 0, 0);
  ctx.restore();
}

/** A marker of `shape` centred at (x, y), radius r: filled with `fill` (or hollow, null), outlined in `stroke`. */
function drawMarker(ctx, shape, x, y, r, fill, stroke, width = 1.5) {
  ctx.beginPath();
  if (shape === "circle") ctx.arc(x, y, r, 0, 2 * Math.PI);
  else if (shape === "square") ctx.rect(x - r * 0.85, y - r * 0.85, 1.7 * r, 1.7 * r);
  else if (shape === "triangle") {
    ctx.moveTo(x, y - 1.15 * r);
    ctx.lineTo(x + r, y + 0.75 * r);
    ctx.lineTo(x - r, y + 0.75 * r);
    ctx.closePath();
  } else if (shape === "diamond") {
    ctx.moveTo(x, y - 1.2 * r);
    ctx.lineTo(x + r, y);
    ctx.lineTo(x, y + 1.2 * r);
    ctx.lineTo(x - r, y);
    ctx.closePath();
  } else if (shape === "star") {
    for (let i = 0; i < 10; i++) {
      const a = -Math.PI / 2 + (i * Math.PI) / 5, rr = i % 2 ? 0.45 * r : 1.2 * r;
      ctx[i ? "lineTo" : "moveTo"](x + rr * Math.cos(a), y + rr * Math.sin(a));
    }
    ctx.closePath();
  } else { // cross: an x
    ctx.moveTo(x - r, y - r);
    ctx.lineTo(x + r, y + r);
    ctx.moveTo(x + r, y - r);
    ctx.lineTo(x - r, y + r);
    fill = null;
    width = Math.max(width, 2);
  }
  if (fill) {
    ctx.fillStyle = fill;
    ctx.fill();
  }
  if (stroke) {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = width;
    ctx.stroke();
  }
}

/** The same marker as a small inline SVG, for legends written in HTML. */
function markerSvg(shape, color, hollow = false, size = 14) {
  const c = size / 2, r = size * 0.32;
  const paint = hollow ? `fill="none" stroke="${color}" stroke-width="2"` : `fill="${color}" stroke="${color}"`;
  const pts = (list) => list.map(([dx, dy]) => `${c + dx * r},${c + dy * r}`).join(" ");
  const body = {
    circle: `<circle cx="${c}" cy="${c}" r="${r}" ${paint}/>`,
    square: `<rect x="${c - 0.85 * r}" y="${c - 0.85 * r}" width="${1.7 * r}" height="${1.7 * r}" ${paint}/>`,
    triangle: `<polygon points="${pts([[0, -1.15], [1, 0.75], [-1, 0.75]])}" ${paint}/>`,
    diamond: `<polygon points="${pts([[0, -1.2], [1, 0], [0, 1.2], [-1, 0]])}" ${paint}/>`,
    star: `<polygon points="${pts([...Array(10)].map((_, i) => {
      const a = -Math.PI / 2 + (i * Math.PI) / 5, rr = i % 2 ? 0.45 : 1.2;
      return [rr * Math.cos(a), rr * Math.sin(a)];
    }))}" ${paint}/>`,
    cross: `<path d="M${c - r},${c - r}L${c + r},${c + r}M${c + r},${c - r}L${c - r},${c + r}" stroke="${color}" ` +
           `stroke-width="2"/>`,
  }[shape];
  return `<svg class="swatch" width="${size}" height="${size}" aria-hidden="true">${body}</svg>`;
}

/** coolwarm(p) for p in [0, 1], as a CSS colour. */
function coolwarm(p) {
  const v = Math.min(Math.max(p, 0), 1) * (COOLWARM.length - 1), i = Math.min(Math.floor(v), COOLWARM.length - 2);
  const rgb = (hex) => [1, 3, 5].map((k) => parseInt(hex.slice(k, k + 2), 16));
  const a = rgb(COOLWARM[i]), b = rgb(COOLWARM[i + 1]), f = v - i;
  return `rgb(${a.map((x, k) => Math.round(x + (b[k] - x) * f)).join(",")})`;
}

/** A horizontal dashed grey rule at y = 0.5, as the pipeline's figures draw it. */
function drawHalf(ctx, area, y) {
  ctx.save();
  ctx.strokeStyle = RULE;
  ctx.setLineDash([5, 4]);
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(area.left, Math.round(y(0.5)) + 0.5);
  ctx.lineTo(area.right, Math.round(y(0.5)) + 0.5);
  ctx.stroke();
  ctx.restore();
}
