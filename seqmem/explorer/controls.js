// What a learner does: type, click a position, draw a random sequence, pick a step, drop a checkpoint.
"use strict";

function select(step) {
  step = Math.min(view.tokens.length - 1, Math.max(0, step));
  if (step !== view.selected) {
    view.selected = step;
    render(false);
  }
}

function setTokens(next) {
  view = { ...view, tokens: next.tokens, under: next.under, selected: next.at ?? next.tokens.length - 1 };
  render();
}

function onTyped() {
  const parsed = parseTokens($("typed").value, DATA.limits.max_steps);
  if (parsed.error) return say("sequence-message", parsed.error, "error");
  say("sequence-message", "");
  const t = parsed.tokens, same = t.length === view.tokens.length && t.indexOf(-1) === view.tokens.indexOf(-1);
  setTokens({ tokens: t, under: same ? view.under : null, at: Math.min(view.selected, t.length - 1) });
}

function onRandom() {
  const n = Number($("random-length").value);
  if (!Number.isInteger(n) || n < 1 || n > DATA.limits.max_steps) {
    return say("sequence-message", `the length must be a whole number from 1 to ${DATA.limits.max_steps}`, "error");
  }
  say("sequence-message", "");
  setTokens(randomTokens(n, $("random-minus").checked));
}

function onRun() {
  const n = Number($("memory-n").value), seed = Number($("memory-seed").value);
  if (!Number.isInteger(n) || n < 1 || n > DATA.limits.max_distance) {
    return say("memory-status", `the steps must be a whole number from 1 to ` +
                                `${DATA.limits.max_distance.toLocaleString("en-US")}`, "error");
  }
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    return say("memory-status", "the seed must be a whole number from 0 to 4294967295", "error");
  }
  view = { ...view, n, seed };
  writeUrl();
  runMemory(models);
}

/** A dropped or opened file: added as a model if it is a valid checkpoint; else one line, and nothing changes. */
async function addFile(file) {
  try {
    if (file.size > DATA.limits.max_file) {
      throw new CheckpointError(`${file.size.toLocaleString("en-US")} bytes; a seqmem checkpoint is at most ` +
                                `${DATA.limits.max_file.toLocaleString("en-US")}`);
    }
    const ckpt = parseCheckpoint(await file.arrayBuffer(), DATA.limits);
    const used = new Set(models.map((m) => m.style.color));
    const style = DROPPED_STYLES.find((s) => !used.has(s.color));
    if (!style) throw new CheckpointError(`at most ${DROPPED_STYLES.length} added models at once; remove one first`);
    const { flavor, hidden_size: H, num_layers: L } = ckpt.config;
    // an LSTM's forget penalty tells the exercise's (0) from the pipeline's: worth its place in the name
    const penalty = flavor === "lstm" && ckpt.train ? `, forget_penalty ${ckpt.train.lstm.forget_penalty}` : "";
    const m = { key: `file${++dropped}`, name: `${flavor.toUpperCase()} from ${file.name}${penalty}`,
                style: { ...style, dash: true }, config: ckpt.config, tensors: ckpt.tensors,
                engine: makeModel(ckpt.config, ckpt.tensors), pipeline: false, train: ckpt.train };
    models.push(m);
    say("drop-message", `Added ${file.name}: ${flavor === "gru" ? "a" : "an"} ${flavor.toUpperCase()} of ${H} units` +
                        `${L > 1 ? ` x ${L} layers` : ""}${ckpt.train ? `, trained ${ckpt.train[flavor].steps} ` +
                        `steps${penalty}` : ", no training params recorded"}.`, "ok");
    renderLegend();
    render();
    runMemory([m]);
  } catch (e) {
    const why = e instanceof CheckpointError ? e.message : `could not be read (${String(e.message || e).slice(0, 80)})`;
    say("drop-message", `${file.name}: not a seqmem checkpoint: ${why}`, "error");
  }
}

function removeModel(key) {
  const i = models.findIndex((m) => m.key === key);
  if (i < 0 || models[i].pipeline) return;
  memory.results.get(key)?.job.stop();
  memory.results.delete(key);
  models.splice(i, 1);
  renderLegend();
  render();
  scheduleMemoryDraw();
}

function wire() {
  $("typed").addEventListener("input", onTyped);
  $("cells").addEventListener("click", (e) => {
    const step = e.target.closest("button.cell")?.dataset.step;
    if (step !== undefined) setTokens(toggleMinus(view.tokens, view.under, Number(step)));
  });
  $("cells").addEventListener("mouseover", (e) => {
    const step = e.target.closest("button.cell")?.dataset.step;
    if (step !== undefined) select(Number(step));
  });
  $("random").addEventListener("click", onRandom);
  $("presets").addEventListener("click", (e) => {
    const at = e.target.dataset?.at;
    if (at === undefined) return;
    say("sequence-message", "");
    setTokens(at === "" ? { tokens: DATA.sequence.slice(), under: null }
      : toggleMinus(DATA.sequence, null, Number(at)));
  });
  $("traces").addEventListener("mousemove", (e) => {
    select(hit.traces.step(e.clientX - e.target.getBoundingClientRect().left));
  });
  document.addEventListener("keydown", (e) => {
    if ((e.target instanceof Element && e.target.matches("input, textarea, select")) || e.altKey || e.ctrlKey ||
        e.metaKey) return;
    const jump = e.shiftKey ? 10 : 1;
    const to = { ArrowLeft: view.selected - jump, ArrowRight: view.selected + jump, Home: 0,
                 End: view.tokens.length - 1 }[e.key];
    if (to !== undefined) {
      e.preventDefault();
      select(to);
    }
  });
  $("memory-run").addEventListener("click", onRun);
  for (const id of ["memory-n", "memory-seed"]) $(id).addEventListener("keydown", (e) => e.key === "Enter" && onRun());
  $("file").addEventListener("change", (e) => {
    for (const f of e.target.files) addFile(f);
    e.target.value = "";
  });
  document.addEventListener("dragover", (e) => {
    e.preventDefault();
    document.body.classList.add("dragging");
  });
  document.addEventListener("dragleave", (e) => e.relatedTarget || document.body.classList.remove("dragging"));
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    document.body.classList.remove("dragging");
    for (const f of e.dataTransfer?.files || []) addFile(f);
  });
  window.addEventListener("hashchange", () => {
    const { view: next, problems } = readFragment(location.hash, view, DATA.limits);
    if (problems.length) say("sequence-message", `the link's ${problems.join(", ")} could not be used`, "error");
    const rerun = next.n !== memory.n || next.seed !== memory.seed;
    view = next;
    $("memory-n").value = view.n;
    $("memory-seed").value = view.seed;
    render();
    if (rerun) runMemory(models);
  });
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      widths.clear();
      render(false);
      drawMemoryNow();
    }, 100);
  });
}

function start() {
  const presets = DATA.positions.map((p) => `<button data-at="${p}">-1 at ${p}</button>`).join("");
  $("presets").innerHTML = `<span>The pipeline's probes:</span><button data-at="">no -1</button>${presets}`;
  const { view: first, problems } = readFragment(location.hash, exercise, DATA.limits);
  if (problems.length) say("sequence-message", `the link's ${problems.join(", ")} could not be used`, "error");
  view = first;
  $("memory-n").value = view.n;
  $("memory-seed").value = view.seed;
  $("memory-n").max = DATA.limits.max_distance;
  $("random-length").max = DATA.limits.max_steps;
  const cycles = models.some((m) => m.points.some((r) => (r.period || 1) > 1));
  $("shapes").innerHTML = `${markerSvg("circle", coolwarm(1))} stable fixed point (pulls states in) ` +
    `${markerSvg("circle", coolwarm(1), true)} saddle (pushes them away along some direction) ` +
    `${markerSvg("cross", coolwarm(0.5))} slowest point (the digit has no fixed point) ` +
    (cycles ? `${markerSvg("diamond", coolwarm(1))} a cycle's states (joined, dotted: the digit visits them in ` +
              "turn) " : "") +
    `&middot; colour: P at the point, 0 <span class="bar"></span> 1 (&ldquo;seen&rdquo;) ` +
    `&middot; the ring: the chosen step's state; dark path: after the -1`;
  renderLegend();
  buildPlanes();
  wire();
  render();
  runMemory(models);
  // for the tests and the benchmark: what the page draws, read-only
  window.explorer = {
    view: () => ({ ...view, tokens: view.tokens.slice() }),
    traces: () => Object.fromEntries(runs.map((r) => [r.m.key, Array.from(r.p)])),
    models: () => models.map((m) => ({ key: m.key, name: m.name, pipeline: m.pipeline, config: m.config })),
    redrawMs: () => lastRedrawMs,
    memoryP: (key, upTo) => Array.from(memory.results.get(key).p.subarray(0, upTo)),
    memory: () => ({ n: memory.n, seed: memory.seed, ms: memory.ms, results: Object.fromEntries(
      [...memory.results].map(([k, r]) => [k, { done: r.done, filled: r.filled, forgets: forgets(r.p, r.filled),
                                              last: r.p[memory.n], min: r.done ? r.p.reduce((a, b) => Math.min(a, b)) : null }])) }),
  };
}

start();
