// The models, run in the page: torch's RNN, LSTM and GRU equations in float64 from float32 weights.
// Loaded twice: by the page, and (with fast.js) as the source of the Web Worker that runs the long memory
// view: the worker is made from these scripts' text, so the page needs no second file and no server.
"use strict";

const GATES = { rnn: 1, lstm: 4, gru: 3 };

/** The tensors a model of this shape holds, in torch's state_dict order: name -> shape (seqmem.core.config). */
function weightShapes(flavor, H, L) {
  const gh = GATES[flavor] * H;
  const shapes = {};
  for (let k = 0; k < L; k++) {
    shapes[`rnn.weight_ih_l${k}`] = [gh, k === 0 ? 1 : H];
    shapes[`rnn.weight_hh_l${k}`] = [gh, H];
    shapes[`rnn.bias_ih_l${k}`] = [gh];
    shapes[`rnn.bias_hh_l${k}`] = [gh];
  }
  shapes["head.0.weight"] = [1, H];
  shapes["head.0.bias"] = [1];
  return shapes;
}

/** W (rows x cols, torch's layout) transposed into float64, so that a step's products run along gate rows. */
function transposed(w, rows, cols) {
  const t = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = w[i * cols + j];
  return t;
}

/** A runnable model from its config {flavor, hidden_size, num_layers} and tensors {name: Float32Array}. */
function makeModel(config, tensors) {
  const { flavor, hidden_size: H, num_layers: L } = config;
  const G = GATES[flavor] * H, gru = flavor === "gru", lstm = flavor === "lstm";
  const layers = [];
  for (let k = 0; k < L; k++) {
    const inputs = k === 0 ? 1 : H;
    const bi = Float64Array.from(tensors[`rnn.bias_ih_l${k}`]), bh = Float64Array.from(tensors[`rnn.bias_hh_l${k}`]);
    layers.push({ inputs, wi: transposed(tensors[`rnn.weight_ih_l${k}`], G, inputs),
                  wh: transposed(tensors[`rnn.weight_hh_l${k}`], G, H),
                  // a GRU keeps its recurrent bias with its recurrent part; the others add both biases first
                  bi: gru ? bi : bi.map((v, i) => v + bh[i]), bh });
  }
  return {
    flavor, H, L, G, layers, lstm, gru,
    dim: (lstm ? 2 : 1) * L * H, // the flat state: every layer's h, then every layer's c (seqmem.fixed_points)
    head: Float64Array.from(tensors["head.0.weight"]), bias: tensors["head.0.bias"][0],
    sums: new Float64Array(2 * G), // scratch: the pre-activations, then a GRU's recurrent part
  };
}

// tanh as seqmem.kernels computes it (Eigen's rational approximation, a few float32 ulp from tanh), here in
// float64: cheaper than Math.tanh, which a 100,000-step LSTM run called 160 times a step for half its time
const TANH_CLAMP = Math.fround(7.90531110763549805); // tanh is 1 in float32 from here on
const [P0, P1, P2, P3, P4, P5, P6] = [-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
  5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03].map(Math.fround);
const [Q0, Q1, Q2, Q3] = [1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
  4.89352518554385e-03].map(Math.fround);

function tanh(x) {
  x = x < -TANH_CLAMP ? -TANH_CLAMP : x > TANH_CLAMP ? TANH_CLAMP : x;
  const x2 = x * x;
  const p = ((((((P0 * x2 + P1) * x2 + P2) * x2 + P3) * x2 + P4) * x2 + P5) * x2 + P6);
  const q = (((Q0 * x2 + Q1) * x2 + Q2) * x2 + Q3);
  return (x * p) / q;
}

const sigmoid = (x) => 0.5 * tanh(0.5 * x) + 0.5; // the gates', as the kernel's
const decide = (z) => 1 / (1 + Math.exp(-z)); // the decision's, in float64 as the kernel's

/** out (G,) += wT (n x G) applied to v[o .. o + n): four inputs a pass, so each gate row's sum is loaded once. */
function accumulate(wT, v, o, n, out, G) {
  let j = 0;
  for (; j + 3 < n; j += 4) {
    const v0 = v[o + j], v1 = v[o + j + 1], v2 = v[o + j + 2], v3 = v[o + j + 3];
    const r0 = j * G, r1 = r0 + G, r2 = r1 + G, r3 = r2 + G;
    for (let i = 0; i < G; i++) out[i] += wT[r0 + i] * v0 + wT[r1 + i] * v1 + wT[r2 + i] * v2 + wT[r3 + i] * v3;
  }
  for (; j < n; j++) {
    const vj = v[o + j], r = j * G;
    for (let i = 0; i < G; i++) out[i] += wT[r + i] * vj;
  }
}

/** The new state of one layer, S[h..] (and an LSTM's S[c..]), from its pre-activations A[a..] (a GRU's
 *  recurrent part apart, A[r..]): torch's equations. */
function cell(m, A, a, r, S, h, c) {
  const H = m.H;
  if (m.lstm) { // gates in torch's order: input, forget, cell, output
    for (let i = 0; i < H; i++) {
      const ig = sigmoid(A[a + i]), fg = sigmoid(A[a + H + i]);
      const gg = tanh(A[a + 2 * H + i]), og = sigmoid(A[a + 3 * H + i]);
      S[c + i] = fg * S[c + i] + ig * gg;
      S[h + i] = og * tanh(S[c + i]);
    }
  } else if (m.gru) { // reset, update, new: the reset gate scales the recurrent part of the new state alone
    for (let i = 0; i < H; i++) {
      const rg = sigmoid(A[a + i] + A[r + i]), u = sigmoid(A[a + H + i] + A[r + H + i]);
      const n = tanh(A[a + 2 * H + i] + rg * A[r + 2 * H + i]);
      S[h + i] = (1 - u) * n + u * S[h + i];
    }
  } else {
    for (let i = 0; i < H; i++) S[h + i] = tanh(A[a + i]);
  }
}

/** One step in place: read input x (a digit, or -1) into the flat state s (Float64Array of m.dim). */
function step(m, s, x) {
  const { H, L, G, sums } = m, acc = sums.subarray(0, G), rec = sums.subarray(G);
  for (let k = 0; k < L; k++) {
    const { wi, wh, bi, bh, inputs } = m.layers[k];
    const h = k * H; // this layer's h in s; its input is x, or the layer below's new h
    acc.set(bi);
    if (k === 0) for (let i = 0; i < G; i++) acc[i] += wi[i] * x;
    else accumulate(wi, s, (k - 1) * H, inputs, acc, G);
    if (m.gru) rec.set(bh);
    accumulate(wh, s, h, H, m.gru ? rec : acc, G);
    cell(m, sums, 0, G, s, h, L * H + k * H);
  }
}

/** P(a -1 was seen) = sigmoid(head . top layer's h). */
function decision(m, s) {
  let z = m.bias;
  const top = (m.L - 1) * m.H;
  for (let i = 0; i < m.H; i++) z += m.head[i] * s[top + i];
  return decide(z);
}

/** The decision after every token, and the flat state after every token (T x dim, row-major). */
function trace(m, tokens) {
  const T = tokens.length;
  const s = new Float64Array(m.dim);
  const p = new Float64Array(T), states = new Float64Array(T * m.dim);
  for (let t = 0; t < T; t++) {
    step(m, s, tokens[t]);
    p[t] = decision(m, s);
    states.set(s, t * m.dim);
  }
  return { p, states };
}

/** A seeded stream of digits 0..9 (mulberry32): the same digits for every model and in every browser. */
function digits(seed, n) {
  let a = seed >>> 0;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 10);
  }
  return out;
}
