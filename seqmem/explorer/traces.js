// View 2: the decision at every step, one line per model, drawn as plots/traces.png draws it: steps-post
// (the decision after reading step t holds until t + 1), the 0.5 rule dashed grey, the -1 a dotted line.
"use strict";

const MARKERS_UP_TO = 80; // steps: past this a marker per step is clutter

/** Draw the traces; `runs` [{style, p (T,)}], first drawn widest so that equal lines stay visible. */
function drawTraces(canvas, width, height, runs, tokens, selected) {
  const ctx = sizeCanvas(canvas, width, height);
  const area = { left: 62, top: 20, right: width - 16, bottom: height - 46 };
  const T = tokens.length;
  const x = linear(-0.6, T - 0.4, area.left, area.right), y = linear(-0.05, 1.05, area.bottom, area.top);
  if (selected !== null) { // the step the other views show
    ctx.fillStyle = "rgba(255, 200, 0, 0.22)";
    ctx.fillRect(x(selected - 0.5), area.top, x(selected + 0.5) - x(selected - 0.5), area.bottom - area.top);
  }
  const xCount = Math.max(2, Math.min(T, Math.floor((area.right - area.left) / 45)));
  drawFrame(ctx, area, x, y, { xTicks: ticks(0, T - 1, xCount, true), yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1],
                               xLabel: "time step", yLabel: "P(a -1 was seen)" });
  drawHalf(ctx, area, y);
  const minus = tokens.indexOf(-1);
  if (minus >= 0) { // where the -1 arrives: a dotted line, named above the plot
    ctx.strokeStyle = "#222";
    ctx.setLineDash([2, 3]);
    ctx.lineWidth = 1.4;
    ctx.beginPath();
    ctx.moveTo(Math.round(x(minus)) + 0.5, area.top - 4);
    ctx.lineTo(Math.round(x(minus)) + 0.5, area.bottom);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = "#222";
    ctx.font = "bold 12px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText("-1", x(minus), area.top - 5);
  }
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top - 8, area.right - area.left, area.bottom - area.top + 16);
  ctx.clip();
  // markers of each model a little right of the last one's, on the step's level: none hides another
  const dodge = Math.min(7, (x(1) - x(0)) / (runs.length + 1));
  runs.forEach((run, i) => {
    const { color, marker, dash } = run.style, p = run.p;
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(4.5 - 1.6 * i, 1.4);
    ctx.lineJoin = "round";
    ctx.setLineDash(dash ? [7, 4] : []);
    ctx.beginPath();
    ctx.moveTo(x(0), y(p[0]));
    for (let t = 1; t < T; t++) {
      ctx.lineTo(x(t), y(p[t - 1]));
      ctx.lineTo(x(t), y(p[t]));
    }
    ctx.stroke();
    ctx.setLineDash([]);
    if (T <= MARKERS_UP_TO) {
      for (let t = 0; t < T; t++) drawMarker(ctx, marker, x(t) + i * dodge, y(p[t]), 3.6, color, "white", 0.8);
    }
    if (selected !== null) drawMarker(ctx, marker, x(selected) + i * dodge, y(p[selected]), 6, color, "#111", 1.5);
  });
  ctx.restore();
  return { step: (px) => Math.min(T - 1, Math.max(0, Math.round(x.invert(px)))) };
}
