// View 3: the state's path on the plane of plots/attractors.png, with the fixed points of the digit read at
// the chosen step: stable ones filled, saddles hollow, the slowest points (no fixed point) a cross, the
// points of a k-cycle a diamond; their colour is their P(a -1 was seen), as in the figure.
"use strict";

const FILLED = new Set(["stable", "marginal"]); // it attracts; the others push away in some direction

/** The shape of a fixed-point row, and whether it is drawn filled. */
function pointShape(row) {
  if ((row.period || 1) > 1) return { shape: "diamond", filled: FILLED.has(row.kind) };
  if (row.kind === "slow") return { shape: "cross", filled: false };
  return { shape: "circle", filled: FILLED.has(row.kind) };
}

/** A digit's rows as groups: each fixed point alone, each cycle's states together (consecutive rows, phase 0 first). */
function orbits(rows) {
  const out = [];
  for (let i = 0; i < rows.length; i++) {
    const k = rows[i].period || 1;
    if (k > 1 && rows[i].phase === 0) {
      out.push(rows.slice(i, i + k));
      i += k - 1;
    } else out.push([rows[i]]);
  }
  return out;
}

/** Every state of the path on the plane: the start (all zeros), then the state after each step; (T + 1) x 2. */
function project(m, states, T) {
  const { mean, c1, c2 } = m.plane, D = mean.length;
  const out = new Float64Array(2 * (T + 1));
  for (let t = 0; t <= T; t++) {
    let a = 0, b = 0;
    for (let j = 0; j < D; j++) {
      const v = (t === 0 ? 0 : states[(t - 1) * D + j]) - mean[j];
      a += v * c1[j];
      b += v * c2[j];
    }
    out[2 * t] = a;
    out[2 * t + 1] = b;
  }
  return out;
}

/** The view: the committed trajectories' neighbourhood (the figure's), widened where this path leaves it. */
function viewBox(box, xy) {
  let [x0, x1, y0, y1] = box;
  for (let i = 0; i < xy.length; i += 2) {
    x0 = Math.min(x0, xy[i]);
    x1 = Math.max(x1, xy[i]);
    y0 = Math.min(y0, xy[i + 1]);
    y1 = Math.max(y1, xy[i + 1]);
  }
  const padX = (x1 - x0) * 0.04, padY = (y1 - y0) * 0.04;
  return [x0 - padX, x1 + padX, y0 - padY, y1 + padY];
}

function drawPath(ctx, x, y, xy, minus) {
  const T = xy.length / 2 - 1;
  for (let t = 0; t < T; t++) { // segment t leads to the state after step t: dark once the -1 is read
    const seen = minus >= 0 && t >= minus;
    ctx.strokeStyle = seen ? "#4d4d4d" : "#a6a6a6";
    ctx.lineWidth = seen ? 1.4 : 1.2;
    ctx.setLineDash(seen ? [] : [5, 3]);
    ctx.beginPath();
    ctx.moveTo(x(xy[2 * t]), y(xy[2 * t + 1]));
    ctx.lineTo(x(xy[2 * t + 2]), y(xy[2 * t + 3]));
    ctx.stroke();
  }
  ctx.setLineDash([]);
  for (let t = 1; t <= T; t++) {
    ctx.fillStyle = minus >= 0 && t > minus ? "#4d4d4d" : "#a6a6a6";
    ctx.fillRect(x(xy[2 * t]) - 1.5, y(xy[2 * t + 1]) - 1.5, 3, 3);
  }
  ctx.font = "11px system-ui, sans-serif";
  ctx.fillStyle = "#555";
  drawMarker(ctx, "square", x(xy[0]), y(xy[1]), 3.5, "white", "#555", 1.2);
  ctx.fillText("start", x(xy[0]) + 6, y(xy[1]) - 6);
  if (minus >= 0) {
    ctx.font = "bold 12px system-ui, sans-serif";
    ctx.fillStyle = "#111";
    ctx.fillText("-1", x(xy[2 * minus + 2]) + 7, y(xy[2 * minus + 3]) + 4);
  }
}

/** Draw one model's panel; returns {nearest(px, py)}: the step whose state is closest to a pixel. */
function drawPlane(canvas, width, height, m, tokens, states, selected) {
  const ctx = sizeCanvas(canvas, width, height);
  const T = tokens.length, xy = project(m, states, T);
  const [x0, x1, y0, y1] = viewBox(m.box, xy);
  const area = { left: 52, top: 8, right: width - 10, bottom: height - 44 };
  const x = linear(x0, x1, area.left, area.right), y = linear(y0, y1, area.bottom, area.top);
  drawFrame(ctx, area, x, y, { xTicks: ticks(x0, x1, 5), yTicks: ticks(y0, y1, 5), xLabel: "principal component 1",
                               yLabel: "principal component 2" });
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
  ctx.clip();
  drawPath(ctx, x, y, xy, tokens.indexOf(-1));
  const digit = tokens[selected];
  const rows = digit >= 0 ? m.points.filter((r) => r.digit === digit) : [];
  let beyond = 0;
  for (const orbit of orbits(rows)) {
    if (orbit.length > 1) { // a cycle: its states joined, dotted, in the order the digit visits them
      ctx.strokeStyle = "#595959";
      ctx.setLineDash([1.5, 2.5]);
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      orbit.forEach((r, i) => ctx[i ? "lineTo" : "moveTo"](x(r.pc1), y(r.pc2)));
      ctx.closePath();
      ctx.stroke();
      ctx.setLineDash([]);
    }
    for (const r of orbit) {
      if (r.pc1 < x0 || r.pc1 > x1 || r.pc2 < y0 || r.pc2 > y1) beyond++;
      const { shape, filled } = pointShape(r), color = coolwarm(r.p);
      drawMarker(ctx, shape, x(r.pc1), y(r.pc2), 7, filled ? color : null, filled ? "#333" : color, filled ? 0.8 : 2.4);
    }
  }
  const sx = x(xy[2 * selected + 2]), sy = y(xy[2 * selected + 3]);
  drawMarker(ctx, "circle", sx, sy, 10, null, m.style.color, 3);
  drawMarker(ctx, "circle", sx, sy, 2.5, "#111", null);
  ctx.restore();
  if (beyond) {
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#555";
    ctx.fillText(`${beyond} more point${beyond > 1 ? "s" : ""} of digit ${digit} beyond this view`,
                 area.left + 6, area.bottom - 8);
  }
  return {
    nearest(px, py) {
      let best = 0, dist = Infinity;
      for (let t = 1; t <= T; t++) {
        const d = (x(xy[2 * t]) - px) ** 2 + (y(xy[2 * t + 1]) - py) ** 2;
        if (d < dist) [best, dist] = [t - 1, d];
      }
      return best;
    },
  };
}

/** The caption under a panel: what the chosen step reads, P there, and the fixed points of that digit. */
function planeCaption(m, tokens, p, selected) {
  const digit = tokens[selected];
  const head = `Step ${selected} reads <b>${digit}</b>: P = ${p[selected].toFixed(4)}`;
  if (digit < 0) return `${head}. The -1 is read once: it has no fixed points; it kicks the state.`;
  const rows = m.points.filter((r) => r.digit === digit);
  if (!rows.length) return `${head}. The search found no point under ${digit}.`;
  const items = orbits(rows).map((orbit) => {
    const r = orbit[0], { shape, filled } = pointShape(r), color = coolwarm(r.p);
    const kind = orbit.length > 1 ? `${r.kind} ${orbit.length}-cycle` : r.kind;
    return `<span class="pt">${markerSvg(shape, color, !filled)} ${kind} ${orbit.map((q) => q.p.toFixed(2)).join(", ")}` +
           "</span>";
  });
  return `${head}. Under ${digit} (P at the point): ${items.join(" ")}`;
}
