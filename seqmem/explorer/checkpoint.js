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

/** A section of params against its rules ({key: {type, ge, gt, le, choices}}, from seqmem.core.config). */
function checkFields(section, rules, where) {
  if (!isObject(section)) fail(`${where} must be an object, got ${shown(section)}`);
  const unknown = Object.keys(section).find((k) => !(k in rules));
  if (unknown) fail(`${where}.${shown(unknown)}: unknown key`);
  for (const [key, r] of Object.entries(rules)) {
    const v = section[key];
    if (!(key in section)) fail(`${where}.${key}: missing key`);
    const ok = r.type === "int" ? Number.isSafeInteger(v) : r.type === "float" ? Number.isFinite(v)
      : typeof v === "string";
    if (!ok) fail(`${where}.${key}: must be ${r.type}, got ${shown(v)}`);
    if ((r.choices && !r.choices.includes(v)) || (r.ge !== undefined && !(v >= r.ge)) ||
        (r.gt !== undefined && !(v > r.gt)) || (r.le !== undefined && !(v <= r.le))) {
      fail(`${where}.${key}: ${shown(v)} is out of its range`);
    }
  }
}

/** The recorded training params: null, or params.yaml's `train` section for exactly this model's flavor and shape. */
function checkTrain(train, config, limits) {
  if (train === null) return;
  if (!isObject(train)) fail(`its training params must be an object or null, got ${shown(train)}`);
  const { flavor } = config, shared = { ...train };
  const other = limits.flavors.find((f) => f !== flavor && f in train);
  if (other) fail(`its training params hold train.${other}, but the model is ${shown(flavor)}`);
  delete shared[flavor];
  checkFields(shared, limits.train, "its training params: train");
  checkFields(train[flavor], limits.train_flavor, `its training params: train.${flavor}`);
  if (train.min_len > train.max_len) fail("its training params have min_len > max_len");
  for (const key of ["forget_bias", "forget_penalty"]) {
    if (flavor !== "lstm" && train[flavor][key] !== 0) fail(`its training params: train.${flavor}.${key} must be 0`);
  }
  for (const key of ["hidden_size", "num_layers"]) {
    if (train[flavor][key] !== config[key]) {
      fail(`its config says ${key} ${config[key]}, its training params train.${flavor}.${key} ` +
           `${shown(train[flavor][key])}`);
    }
  }
}

/** Valid JSON text whose objects repeat no key: JSON.parse would keep the last one silently, seqmem refuses it. */
function checkUniqueKeys(text, where) {
  const open = []; // per open object, the keys it has; per open array, null
  let key = false; // is the next string an object's key?
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      if (key) {
        const name = JSON.parse(text.slice(i, j + 1)), keys = open[open.length - 1];
        if (keys.has(name)) fail(`${where}: the key ${shown(name)} appears twice`);
        keys.add(name);
      }
      key = false;
      i = j;
    } else if (ch === "{" || ch === "[") {
      open.push(ch === "{" ? new Set() : null);
      key = ch === "{";
    } else if (ch === "}" || ch === "]") {
      open.pop();
    } else if (ch === ",") {
      key = open[open.length - 1] instanceof Set;
    }
  }
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
    fail("a torch.save checkpoint from an earlier seqmem (a zip), which seqmem no longer reads; `dvc repro` " +
         "retrains the pipeline's models as models/<flavor>.safetensors");
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
  let header, text;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + low));
  } catch {
    fail("its header is not UTF-8 text");
  }
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`its header is not JSON (${e.message.split("\n")[0].slice(0, 70)})`);
  }
  if (!isObject(header)) fail(`its header must be a JSON object, got ${shown(header)}`);
  checkUniqueKeys(text, "its header");
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
  checkUniqueKeys(meta.seqmem, "its seqmem metadata");
  if (!isObject(doc) || Object.keys(doc).sort().join() !== "config,format,train") {
    fail(`its seqmem metadata must hold config, format and train, got ${shown(isObject(doc) ? Object.keys(doc) : doc)}`);
  }
  if (doc.format !== limits.format) fail(`checkpoint format ${shown(doc.format)}; this page reads format ${limits.format}`);
  checkConfig(doc.config, limits);
  const { flavor, hidden_size: H, num_layers: L } = doc.config;
  checkTrain(doc.train, doc.config, limits);
  const shapes = weightShapes(flavor, H, L);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const missing = Object.keys(shapes).find((k) => !(k in header));
  if (missing) fail(`tensor ${missing} is missing (config ${flavor}, hidden_size ${H}, num_layers ${L})`);
  const extra = names.find((k) => !(k in shapes));
  if (extra) fail(`tensor ${shown(extra)} is not one of a ${flavor} with ${L} layer${L > 1 ? "s" : ""}`);
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
  return { config: doc.config, train: doc.train, tensors };
}
