// Checkpoints in the page: the pipeline's models, embedded by stage explorer, and a dropped .safetensors
// file, which is checked in full before any of it is used: one failed check is one line, and nothing changes.
"use strict";

class CheckpointError extends Error {}

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
const shown = (v) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
};
const count = (shape) => shape.reduce((a, b) => a * b, 1);

function fail(message) {
  throw new CheckpointError(message);
}

/** The float32 values of `bytes` from `offset` (little-endian, any alignment), as a Float32Array of n. */
function floats(view, offset, n) {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(offset + 4 * i, true);
  return out;
}

/** An embedded model's tensors: base64 of its float32 values, little-endian, in weightShapes order. */
function embeddedTensors(config, base64) {
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  const tensors = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(weightShapes(config.flavor, config.hidden_size, config.num_layers))) {
    tensors[name] = floats(view, offset, count(shape));
    offset += 4 * count(shape);
  }
  return tensors;
}

/** The metadata's config: {flavor, hidden_size, num_layers}, each in seqmem.core.config's range. */
function checkConfig(config, limits) {
  if (!isObject(config)) fail(`its config must be an object, got ${shown(config)}`);
  const keys = Object.keys(config).sort().join(",");
  if (keys !== "flavor,hidden_size,num_layers") fail(`its config must hold flavor, hidden_size and num_layers, ` +
                                                     `got ${shown(Object.keys(config))}`);
  const { flavor, hidden_size: H, num_layers: L } = config;
  if (!limits.flavors.includes(flavor)) fail(`config.flavor must be one of ${limits.flavors.join(", ")}, ` +
                                             `got ${shown(flavor)}`);
  if (!Number.isSafeInteger(H) || H < 1) fail(`config.hidden_size must be a positive integer, got ${shown(H)}`);
  if (!Number.isSafeInteger(L) || L < 1 || L > limits.max_layers) {
    fail(`config.num_layers must be an integer in 1..${limits.max_layers}, got ${shown(L)}`);
  }
  const n = Object.values(weightShapes(flavor, H, L)).reduce((a, s) => a + count(s), 0);
  if (n > limits.max_weights) fail(`its config implies ${n.toLocaleString("en-US")} weights; a seqmem model ` +
                                   `has at most ${limits.max_weights.toLocaleString("en-US")}`);
}

/** The data buffer's spans must not overlap and must cover it exactly, as the safetensors library requires. */
function checkSpans(spans, size) {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let end = 0;
  for (const [begin, stop, name] of spans) {
    if (begin < end) fail(`tensor ${name} overlaps another (bytes ${begin}..${stop})`);
    if (begin > end) fail(`bytes ${end}..${begin} of the data belong to no tensor`);
    end = stop;
  }
  if (end !== size) fail(`${size - end} bytes after the last tensor belong to no tensor`);
}

/** A seqmem .safetensors checkpoint from its bytes: {config, train, tensors}, or a CheckpointError saying why not. */
function parseCheckpoint(buffer, limits) {
  const bytes = new Uint8Array(buffer), size = bytes.length;
  if (size > limits.max_file) fail(`${size.toLocaleString("en-US")} bytes; a seqmem checkpoint is at most ` +
                                   `${limits.max_file.toLocaleString("en-US")}`);
  if (size >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 3 && bytes[3] === 4) {
    fail("a zip archive (torch's .pt format?); this page reads .safetensors checkpoints");
  }
  if (size < 8) fail(`${size} bytes: too short for a safetensors file`);
  const view = new DataView(buffer);
  const claimed = view.getBigUint64(0, true); // the header's length: a little-endian u64, checked before parsing
  if (claimed > BigInt(limits.max_header)) {
    fail(`its header claims ${claimed.toLocaleString("en-US")} bytes; at most ` +
         `${limits.max_header.toLocaleString("en-US")}`);
  }
  const low = Number(claimed);
  if (8 + low > size) fail(`its header claims ${low} bytes, past the end of the file`);
  let header;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + low)));
  } catch (e) {
    fail(`its header is not UTF-8 JSON (${e.message.split("\n")[0].slice(0, 60)})`);
  }
  if (!isObject(header)) fail(`its header must be a JSON object, got ${shown(header)}`);
  const meta = header.__metadata__;
  if (!isObject(meta) || Object.keys(meta).join() !== "seqmem" || typeof meta.seqmem !== "string") {
    fail("its __metadata__ must hold exactly one key, \"seqmem\", a JSON document");
  }
  let doc;
  try {
    doc = JSON.parse(meta.seqmem);
  } catch {
    fail("its seqmem metadata is not JSON");
  }
  if (!isObject(doc) || doc.format !== 1) fail(`its seqmem metadata must have "format": 1, got ${shown(doc?.format)}`);
  checkConfig(doc.config, limits);
  const { flavor, hidden_size: H, num_layers: L } = doc.config;
  const shapes = weightShapes(flavor, H, L);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const missing = Object.keys(shapes).find((k) => !(k in header));
  if (missing) fail(`tensor ${missing} is missing (config ${flavor}, hidden_size ${H}, num_layers ${L})`);
  const extra = names.find((k) => !(k in shapes));
  if (extra) fail(`tensor ${shown(extra)} is not one a ${flavor} of ${L} layer(s) holds`);
  const start = 8 + low, dataSize = size - start, spans = [], tensors = {};
  for (const [name, shape] of Object.entries(shapes)) {
    const t = header[name];
    if (!isObject(t) || Object.keys(t).sort().join() !== "data_offsets,dtype,shape") {
      fail(`tensor ${name} must have exactly dtype, shape and data_offsets`);
    }
    if (t.dtype !== "F32") fail(`tensor ${name} is ${shown(t.dtype)}, not F32`);
    if (!Array.isArray(t.shape) || t.shape.join() !== shape.join() || t.shape.length !== shape.length) {
      fail(`tensor ${name} has shape ${shown(t.shape)}; the config implies [${shape}]`);
    }
    const [begin, end] = Array.isArray(t.data_offsets) && t.data_offsets.length === 2 ? t.data_offsets : [];
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end > dataSize ||
        end - begin !== 4 * count(shape)) {
      fail(`tensor ${name} has data_offsets ${shown(t.data_offsets)}: not ${4 * count(shape)} bytes inside the ` +
           `${dataSize}-byte data`);
    }
    spans.push([begin, end, name]);
  }
  checkSpans(spans, dataSize);
  for (const [begin, , name] of spans) {
    tensors[name] = floats(view, start + begin, count(shapes[name]));
    if (!tensors[name].every(Number.isFinite)) fail(`tensor ${name} holds NaN or inf: a diverged training run?`);
  }
  return { config: doc.config, train: isObject(doc.train) ? doc.train : null, tensors };
}
