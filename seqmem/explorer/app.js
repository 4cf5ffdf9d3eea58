// The page: the models, the view (sequence, chosen step, memory run) that the URL holds, and the wiring.
"use strict";

const DATA = JSON.parse(document.getElementById("seqmem-data").textContent);
const $ = (id) => document.getElementById(id);
const models = []; // {key, name, style, config, tensors, engine, pipeline, and for the pipeline's: plane, box, points}
const exercise = { tokens: DATA.sequence.slice(), under: null, selected: DATA.sequence.length - 1,
                   n: DATA.limits.max_distance, seed: 0 };
let view = { ...exercise };
let runs = []; // per model: {m, style, p (T,), states (T x dim)} for the view's tokens
let hit = { traces: null, planes: {} }; // what the last draw knows about its pixels
let lastRedrawMs = 0, dropped = 0;
const memory = { n: 0, seed: 0, results: new Map(), started: 0, ms: null, drawPending: false };

for (const d of DATA.models) {
  const config = { flavor: d.flavor, hidden_size: d.hidden_size, num_layers: d.num_layers };
  const tensors = embeddedTensors(config, d.weights);
  const points = d.points.rows.map((r) => Object.fromEntries(d.points.columns.map((c, i) => [c, r[i]])));
  models.push({ key: d.flavor, name: d.flavor.toUpperCase(), style: { ...MODEL_STYLE[d.flavor], dash: false },
                config, tensors, engine: makeModel(config, tensors), pipeline: true, box: d.box, points,
                plane: { mean: Float64Array.from(d.plane.mean), c1: Float64Array.from(d.plane.components[0]),
                         c2: Float64Array.from(d.plane.components[1]) } });
}

function say(id, text, kind = "") {
  $(id).textContent = text;
  $(id).className = `message ${kind}`;
}

/** A model's name with its marker, as DOM nodes (a dropped file's name is text, never markup). */
function label(m) {
  const span = document.createElement("span");
  span.className = "model";
  span.innerHTML = markerSvg(m.style.marker, m.style.color);
  span.append(` ${m.name}`);
  return span;
}

const widths = new Map(); // measured once per resize: measuring after an edit would force a layout each time

function widthOf(id) {
  if (!widths.has(id)) widths.set(id, Math.max(280, Math.floor($(id).getBoundingClientRect().width)));
  return widths.get(id);
}

// --- drawing ---------------------------------------------------------------------------------

function renderCells() {
  const box = $("cells"), cells = box.children;
  box.classList.toggle("dense", view.tokens.length > 60);
  while (cells.length > view.tokens.length) box.lastChild.remove();
  while (cells.length < view.tokens.length) { // one button per step, reused from edit to edit
    const b = document.createElement("button");
    b.dataset.step = cells.length;
    box.append(b);
  }
  view.tokens.forEach((t, i) => {
    const b = cells[i], text = String(t);
    if (b.textContent === text) return;
    b.textContent = text;
    b.className = t === -1 ? "cell minus" : "cell";
    b.title = t === -1 ? `step ${i}: the -1; click to take it away` : `step ${i}: click to put the -1 here`;
  });
  if (document.activeElement !== $("typed")) $("typed").value = view.tokens.join(" "); // not under a typing learner
  $("length").textContent = `${view.tokens.length} step${view.tokens.length > 1 ? "s" : ""}`;
}

function renderSelection() {
  const s = view.selected, old = $("cells").querySelector(".selected"), cell = $("cells").children[s];
  if (old) old.classList.remove("selected");
  if (cell) cell.classList.add("selected");
  const read = view.tokens[s];
  $("readout").replaceChildren(`Step ${s} reads ${read}${read === -1 ? " (the -1)" : ""}:`, ...runs.flatMap((r) => {
    const p = r.p[s];
    return [" ", label(r.m), ` P = ${p.toFixed(5)} (${p > 0.5 ? "seen" : "no -1"})`];
  }));
  hit.traces = drawTraces($("traces"), widthOf("traces-box"), 320, runs, view.tokens, s);
  const panels = runs.filter((r) => r.m.pipeline);
  const panelWidth = Math.max(260, Math.min(460, Math.floor(widthOf("planes") / Math.max(panels.length, 1)) - 12));
  for (const r of panels) {
    hit.planes[r.m.key] = drawPlane($(`plane-${r.m.key}`), panelWidth, Math.round(panelWidth * 0.9), r.m,
                                    view.tokens, r.states, s);
    $(`caption-${r.m.key}`).innerHTML = planeCaption(r.m, view.tokens, r.p, s);
    $(`caption-${r.m.key}`).style.width = `${panelWidth}px`;
  }
  writeUrl();
}

// Chromium ignores a page's history calls past 200 in 10 s: a burst of edits (a held arrow key) writes at most
// ten a second, the last one always
let urlWritten = 0, urlTimer = null;

function writeUrl() {
  clearTimeout(urlTimer);
  const wait = urlWritten + 100 - performance.now();
  if (wait > 0) {
    urlTimer = setTimeout(writeUrl, wait);
    return;
  }
  const hash = writeFragment(view);
  if (location.hash !== hash) {
    urlWritten = performance.now();
    history.replaceState(null, "", hash);
  }
}

/** Recompute every model's trace for the view's tokens and redraw views 1-3. */
function render(tokensChanged = true) {
  const t0 = performance.now();
  if (tokensChanged) {
    runs = models.map((m) => ({ m, style: m.style, ...trace(m.engine, view.tokens) }));
    renderCells();
  }
  renderSelection();
  lastRedrawMs = performance.now() - t0;
}

function renderLegend() {
  const legend = $("legend");
  legend.replaceChildren(...models.map((m) => {
    const chip = label(m);
    chip.title = JSON.stringify(m.config) + (m.train ? ` train: ${JSON.stringify(m.train)}` : "");
    if (!m.pipeline) {
      const x = document.createElement("button");
      x.className = "remove";
      x.textContent = "×";
      x.title = "remove this model";
      x.onclick = () => removeModel(m.key);
      chip.append(x);
    }
    return chip;
  }));
}

function buildPlanes() {
  $("planes").replaceChildren(...models.filter((m) => m.pipeline).map((m) => {
    const fig = document.createElement("figure");
    fig.innerHTML = `<figcaption></figcaption><canvas id="plane-${m.key}"></canvas><p id="caption-${m.key}" ` +
                    'class="caption"></p>';
    fig.firstChild.append(label(m));
    fig.querySelector("canvas").addEventListener("mousemove", (e) => {
      const rect = e.target.getBoundingClientRect();
      select(hit.planes[m.key].nearest(e.clientX - rect.left, e.clientY - rect.top));
    });
    return fig;
  }));
}

// --- the long memory view --------------------------------------------------------------------

function drawMemoryNow() {
  memory.drawPending = false;
  const list = models.filter((m) => memory.results.has(m.key)).map((m) => ({ style: m.style, ...memory.results.get(m.key) }));
  drawMemory($("memory"), widthOf("memory-box"), 280, list, memory.n);
  const done = list.filter((r) => r.done).length;
  $("memory-summary").replaceChildren(...models.filter((m) => memory.results.has(m.key)).map((m) => {
    const r = memory.results.get(m.key), li = document.createElement("li"), d = forgets(r.p, r.filled);
    const n = memory.n.toLocaleString("en-US");
    li.append(label(m), !r.done ? ` running: ${Math.floor((100 * r.filled) / (memory.n + 1))}%`
      : d === null ? `: P stays above 0.5 for all ${n} steps after the -1 (at the end: ${r.p[memory.n].toFixed(4)})`
        : `: P falls below 0.5 ${d.toLocaleString("en-US")} steps after the -1; the memory is gone`);
    return li;
  }));
  $("memory-box").dataset.state = done === list.length ? "done" : "running";
  if (done === list.length && memory.ms === null) memory.ms = performance.now() - memory.started;
  say("memory-status", done < list.length ? "Running in the background: the page stays live." :
    `${memory.n.toLocaleString("en-US")} steps for ${list.length} model${list.length > 1 ? "s" : ""} in ` +
    `${(memory.ms / 1000).toFixed(2)} s.`);
}

function scheduleMemoryDraw() {
  if (!memory.drawPending) {
    memory.drawPending = true;
    requestAnimationFrame(drawMemoryNow);
  }
}

/** Start the memory run for `which` models (all, after a new n or seed); the others keep their results. */
function runMemory(which) {
  if (memory.n !== view.n || memory.seed !== view.seed) {
    for (const r of memory.results.values()) r.job.stop();
    memory.results.clear();
    which = models;
    Object.assign(memory, { n: view.n, seed: view.seed });
  }
  memory.started = performance.now();
  memory.ms = null;
  $("memory-box").dataset.state = "running"; // at once: a reader must not see the last run's "done"
  for (const m of which) {
    const r = { p: new Float64Array(memory.n + 1), filled: 0, done: false };
    memory.results.set(m.key, r);
    r.job = startMemory(m, memory.n, memory.seed, (from, p) => {
      r.p.set(p, from);
      r.filled = from + p.length;
      scheduleMemoryDraw();
    }, () => {
      r.done = true;
      scheduleMemoryDraw();
    });
  }
  scheduleMemoryDraw();
}
