// View 4: how long it remembers. A -1, then n seeded random digits, P against the distance on a log axis.
// Each model runs in a Web Worker of its own, so the page stays live; where a browser refuses workers
// (some do for pages from file://), it runs on the page's thread in slices that leave room for edits.
"use strict";

let workerUrl = null;

/** A worker running engine.js and fast.js, made from the page's own scripts: no second file, no server. */
function makeWorker() {
  if (!workerUrl) {
    const blob = new Blob(["engine", "fast"].map((id) => document.getElementById(id).textContent),
                          { type: "text/javascript" });
    workerUrl = URL.createObjectURL(blob);
  }
  return new Worker(workerUrl);
}

/** On the page's thread: one chunk of the run per task, so that input events get in between. */
function runHere(entry, n, seed, onChunk, onDone) {
  const chunks = memoryChunks(makeModel(entry.config, entry.tensors), n, seed, 2048);
  const t0 = performance.now();
  let stopped = false;
  const next = () => {
    if (stopped) return;
    const { value, done } = chunks.next();
    if (done) onDone(performance.now() - t0);
    else {
      onChunk(value.from, value.p);
      setTimeout(next, 0);
    }
  };
  setTimeout(next, 0);
  return { stop: () => { stopped = true; } };
}

/** Run one model's memory: onChunk(from, p) as P arrives, then onDone(ms). Returns {stop()}. */
function startMemory(entry, n, seed, onChunk, onDone) {
  let worker;
  try {
    worker = makeWorker();
  } catch {
    return runHere(entry, n, seed, onChunk, onDone);
  }
  let fallback = null;
  worker.onmessage = (e) => (e.data.done ? onDone(e.data.ms) : onChunk(e.data.from, e.data.p));
  worker.onerror = (e) => { // a worker that can't start: run here instead
    e.preventDefault();
    worker.terminate();
    fallback = runHere(entry, n, seed, onChunk, onDone);
  };
  worker.postMessage({ config: entry.config, tensors: entry.tensors, n, seed });
  return { stop: () => (fallback ? fallback.stop() : worker.terminate()) };
}

/** The first distance at which P < 0.5 (the -1 itself is distance 0), or null; over the `filled` known. */
function forgets(p, filled) {
  for (let d = 0; d < filled; d++) if (p[d] < 0.5) return d;
  return null;
}

/** Draw P against distance 1..n on a log axis; per pixel column, the lowest and highest P in it. */
function drawMemory(canvas, width, height, runs, n) {
  const ctx = sizeCanvas(canvas, width, height);
  const area = { left: 62, top: 10, right: width - 30, bottom: height - 46 };
  const x = logarithmic(1, Math.max(n, 10), area.left, area.right), y = linear(-0.05, 1.05, area.bottom, area.top);
  const decades = [];
  for (let d = 1; d <= Math.max(n, 10); d *= 10) decades.push(d);
  drawFrame(ctx, area, x, y, { xTicks: decades, yTicks: [0, 0.2, 0.4, 0.6, 0.8, 1],
                               xLabel: "steps after the -1 (log scale)", yLabel: "P(a -1 was seen)" });
  drawHalf(ctx, area, y);
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
  ctx.clip();
  runs.forEach((run, i) => {
    const { p, filled } = run, { color, marker, dash } = run.style;
    if (filled < 2) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = Math.max(4.5 - 1.6 * i, 1.4);
    ctx.lineJoin = "round";
    ctx.setLineDash(dash ? [7, 4] : []);
    ctx.beginPath();
    let col = Math.floor(x(1)), lo = p[1], hi = p[1], last = p[1];
    ctx.moveTo(col, y(p[1]));
    for (let d = 2; d < filled; d++) {
      const c = Math.floor(x(d));
      if (c !== col) { // one pixel column done: its range, then on to the next
        ctx.lineTo(col, y(lo));
        ctx.lineTo(col, y(hi));
        ctx.lineTo(col, y(last));
        col = c;
        lo = hi = p[d];
      }
      lo = Math.min(lo, p[d]);
      hi = Math.max(hi, p[d]);
      last = p[d];
    }
    ctx.lineTo(col, y(lo));
    ctx.lineTo(col, y(hi));
    ctx.lineTo(col, y(last));
    ctx.stroke();
    ctx.setLineDash([]);
    // a marker a decade, each model's a little right of the last one's, so that equal curves show every shape
    for (const d of decades) if (d < filled) drawMarker(ctx, marker, x(d) + 8 * i, y(p[d]), 4.5, color, "white", 1);
  });
  ctx.restore();
}
