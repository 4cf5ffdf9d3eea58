// The memory view's fast path: a model's step as WebAssembly SIMD (two float64 lanes), run in chunks, and the
// Web Worker's handler. Loaded after engine.js, in the page and (with it) in each worker. The same operations
// in the same order as engine.js's, so the two give the same bits; where a browser has no WebAssembly SIMD,
// engine.js's step runs instead.
"use strict";

// out += W^T v, four inputs a pass: (func (param $w $v $out $n $g i32)): for j in 0..n by 4, for i in 0..g by 2:
// out[i..i+2] += W[j..j+4, i..i+2]^T v[j..j+4]; n a multiple of 4, g of 2, all in bytes but n and g
const MV_BODY = [
  0x02, 0x07,0x7f, 0x04,0x7b,
  0x20,0x04,0x41,0x03,0x74,0x21,0x05,
  0x41,0x00,0x21,0x06,
  0x02,0x40, 0x03,0x40,
  0x20,0x06,0x20,0x03,0x4f,0x0d,0x01,
  0x20,0x01,0x20,0x06,0x41,0x03,0x74,0x6a,0x21,0x09,
  0x20,0x09,0x2b,0x03,0x00,0xfd,0x14,0x21,0x0c,
  0x20,0x09,0x2b,0x03,0x08,0xfd,0x14,0x21,0x0d,
  0x20,0x09,0x2b,0x03,0x10,0xfd,0x14,0x21,0x0e,
  0x20,0x09,0x2b,0x03,0x18,0xfd,0x14,0x21,0x0f,
  0x20,0x00,0x20,0x06,0x20,0x05,0x6c,0x6a,0x21,0x08,
  0x41,0x00,0x21,0x07,
  0x02,0x40, 0x03,0x40,
  0x20,0x07,0x20,0x05,0x4f,0x0d,0x01,
  0x20,0x02,0x20,0x07,0x6a,0x21,0x09,
  0x20,0x08,0x20,0x07,0x6a,0x21,0x0a,
  0x20,0x09,
  0x20,0x09,0xfd,0x00,0x04,0x00,
  0x20,0x0a,0xfd,0x00,0x04,0x00,0x20,0x0c,0xfd,0xf2,0x01,0xfd,0xf0,0x01,
  0x20,0x0a,0x20,0x05,0x6a,0x22,0x0b,0xfd,0x00,0x04,0x00,0x20,0x0d,0xfd,0xf2,0x01,0xfd,0xf0,0x01,
  0x20,0x0b,0x20,0x05,0x6a,0x22,0x0b,0xfd,0x00,0x04,0x00,0x20,0x0e,0xfd,0xf2,0x01,0xfd,0xf0,0x01,
  0x20,0x0b,0x20,0x05,0x6a,0xfd,0x00,0x04,0x00,0x20,0x0f,0xfd,0xf2,0x01,0xfd,0xf0,0x01,
  0xfd,0x0b,0x04,0x00,
  0x20,0x07,0x41,0x10,0x6a,0x21,0x07,
  0x0c,0x00, 0x0b, 0x0b,
  0x20,0x06,0x41,0x04,0x6a,0x21,0x06,
  0x0c,0x00, 0x0b, 0x0b, 0x0b,
];

function leb(n) {
  const out = [];
  do {
    out.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>>= 7;
  } while (n);
  return out;
}

// a few opcodes, to write the LSTM cell below readably
const GET = 0x20, SET = 0x21, TEE = 0x22, I32 = 0x41, ADD32 = 0x6a;
const simd = (op) => [0xfd, ...leb(op)];
const LOAD = [...simd(0x00), 4, 0], STORE = [...simd(0x0b), 4, 0];
const ADD = simd(0xf0), MUL = simd(0xf2), DIV = simd(0xf3), MIN = simd(0xf4), MAX = simd(0xf5);
const splat = (v) => [...simd(0x0c), ...new Uint8Array(new Float64Array([v, v]).buffer)]; // v128.const

/** The stack's top two lanes -> engine.js's tanh of each, with scratch locals x, x2 and p. */
function tanhCode(x, x2, p) {
  const horner = (first, rest) => [...splat(first), ...rest.flatMap((c) => [GET, x2, ...MUL, ...splat(c), ...ADD])];
  return [SET, x, GET, x, ...splat(-TANH_CLAMP), ...MAX, ...splat(TANH_CLAMP), ...MIN, TEE, x, GET, x, ...MUL, SET, x2,
          ...horner(P0, [P1, P2, P3, P4, P5, P6]), SET, p, GET, x, GET, p, ...MUL, ...horner(Q0, [Q1, Q2, Q3]), ...DIV];
}

const sigmoidCode = (x, x2, p) => [...splat(0.5), ...MUL, ...tanhCode(x, x2, p), ...splat(0.5), ...MUL,
                                   ...splat(0.5), ...ADD];

/** An LSTM layer's cell, two units a pass: (func (param $a $h $c $n i32)), the gates at a, a + n, a + 2n, a + 3n. */
function lstmBody() {
  const [a, h, c, n, i, at, x, x2, p, ig, fg, gg, og] = [...Array(13).keys()];
  const gate = (k, code, to) => [GET, a, GET, i, ADD32, ...(k ? [GET, n, I32, k, 0x6c, ADD32] : []), ...LOAD,
                                 ...code(x, x2, p), SET, to];
  return [0x02, 0x02, 0x7f, 0x07, 0x7b, // locals: i, at (i32); x, x2, p, ig, fg, gg, og (v128)
    0x02, 0x40, 0x03, 0x40, GET, i, GET, n, 0x4f, 0x0d, 0x01, // block, loop: leave when i >= n
    ...gate(0, sigmoidCode, ig), ...gate(1, sigmoidCode, fg), ...gate(2, tanhCode, gg), ...gate(3, sigmoidCode, og),
    GET, c, GET, i, ADD32, TEE, at, GET, fg, GET, at, ...LOAD, ...MUL, GET, ig, GET, gg, ...MUL, ...ADD, ...STORE,
    GET, h, GET, i, ADD32, GET, og, GET, at, ...LOAD, ...tanhCode(x, x2, p), ...MUL, ...STORE, // c, then h
    GET, i, I32, 16, ADD32, SET, i, 0x0c, 0x00, 0x0b, 0x0b, 0x0b]; // next two units; end loop, block, function
}

/** The compiled module ("mv" and "lstm"), or null where this browser has no WebAssembly SIMD. */
const FAST_MODULE = (() => {
  const bodies = [MV_BODY, lstmBody()].map((b) => [...leb(b.length), ...b]);
  const code = [2, ...bodies.flat()];
  const bytes = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
    0x01, 0x10, 0x02, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, 0x60, 0x04, 0x7f, 0x7f, 0x7f, 0x7f, 0x00, // types
    0x02, 0x0a, 0x01, 0x01, 0x6d, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x01, // import m.mem: a memory
    0x03, 0x03, 0x02, 0x00, 0x01, // two functions, of types 0 and 1
    0x07, 0x0d, 0x02, 0x02, 0x6d, 0x76, 0x00, 0x00, 0x04, 0x6c, 0x73, 0x74, 0x6d, 0x00, 0x01, // export "mv", "lstm"
    0x0a, ...leb(code.length), ...code]);
  try {
    return typeof WebAssembly === "object" && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    return null;
  }
})();

/** A model's step and decision over a state of its own, in WebAssembly memory where it can: {step(x), decision()}. */
function stepper(m) {
  if (!FAST_MODULE) {
    const s = new Float64Array(m.dim);
    return { step: (x) => step(m, s, x), decision: () => decision(m, s) };
  }
  // float64 slots: each layer's W_ih^T and W_hh^T (rows padded to 4 inputs, zeros; columns to Gp), h, c, the sums
  const { H, L, G } = m, Hp = Math.ceil(H / 4) * 4, Gp = Math.ceil(G / 2) * 2;
  let top = 0;
  const take = (n) => (top += n) - n;
  const at = m.layers.map((l) => ({ wi: take(Math.ceil(l.inputs / 4) * 4 * Gp), wh: take(Hp * Gp), h: take(Hp),
                                    c: take(Hp) }));
  const acc = take(Gp), rec = take(Gp);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((8 * top) / 65536) + 1 });
  const { mv, lstm } = new WebAssembly.Instance(FAST_MODULE, { m: { mem: memory } }).exports;
  const M = new Float64Array(memory.buffer);
  m.layers.forEach((l, k) => {
    for (let j = 0; j < l.inputs; j++) M.set(l.wi.subarray(j * G, (j + 1) * G), at[k].wi + j * Gp);
    for (let j = 0; j < H; j++) M.set(l.wh.subarray(j * G, (j + 1) * G), at[k].wh + j * Gp);
  });
  return {
    step(x) {
      for (let k = 0; k < L; k++) {
        const l = m.layers[k], a = at[k];
        if (k === 0) for (let i = 0; i < G; i++) M[acc + i] = l.bi[i] + l.wi[i] * x;
        else {
          M.set(l.bi, acc);
          mv(8 * a.wi, 8 * at[k - 1].h, 8 * acc, Hp, Gp);
        }
        if (m.gru) M.set(l.bh, rec);
        mv(8 * a.wh, 8 * a.h, 8 * (m.gru ? rec : acc), Hp, Gp);
        if (m.lstm && H % 2 === 0) lstm(8 * acc, 8 * a.h, 8 * a.c, 8 * H); // two units a pass
        else cell(m, M, acc, rec, M, a.h, a.c);
      }
    },
    decision() {
      let z = m.bias;
      for (let i = 0, h = at[L - 1].h; i < H; i++) z += m.head[i] * M[h + i];
      return decide(z);
    },
  };
}

/** Steps from..to of the memory run: read xs[d - 1] at distance d (the -1 was distance 0), P into out. */
function advance(run, xs, from, to, out) {
  for (let d = from; d < to; d++) {
    run.step(xs[d - 1]);
    out[d - from] = run.decision();
  }
}

/** The memory run, a chunk at a time: a -1, then n seeded digits; yields {from, p}: P at distances from.. */
function* memoryChunks(m, n, seed, chunk = 8192) {
  const xs = digits(seed, n), run = stepper(m);
  run.step(-1);
  const size = Math.min(chunk, n + 1), first = new Float64Array(size);
  first[0] = run.decision();
  advance(run, xs, 1, size, first.subarray(1));
  yield { from: 0, p: first }; // a worker hands p's buffer over: first is empty from here on
  for (let from = size; from <= n; from += chunk) {
    const p = new Float64Array(Math.min(chunk, n + 1 - from));
    advance(run, xs, from, from + p.length, p);
    yield { from, p };
  }
}

// In a Web Worker: {config, tensors, n, seed} in; {from, p} chunks, then {done, ms} out
if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
  self.onmessage = (e) => {
    const { config, tensors, n, seed } = e.data;
    const t0 = performance.now();
    for (const { from, p } of memoryChunks(makeModel(config, tensors), n, seed)) {
      self.postMessage({ from, p }, [p.buffer]);
    }
    self.postMessage({ done: true, ms: performance.now() - t0 });
  };
}
