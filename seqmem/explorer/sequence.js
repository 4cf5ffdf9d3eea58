// View 1, the sequence: what a learner types, where the -1 goes, and the URL fragment that holds it all.
// A -1 takes a digit's place (as the pipeline's probes put it): the digit it covers comes back when the
// -1 moves or goes. A typed -1 covers no digit, so moving it away takes its step out.
"use strict";

/** Tokens from typed text: digits 0..9 (written together, or apart), at most one -1; or {error}. */
function parseTokens(text, maxSteps) {
  const tokens = [];
  for (const [part] of text.matchAll(/-\d+|\d|[\s,;]+|[^\s,;\d]+/g)) {
    if (/^[\s,;]+$/.test(part)) continue;
    if (part === "-1") tokens.push(-1);
    else if (/^\d$/.test(part)) tokens.push(Number(part));
    else return { error: `"${part.slice(0, 12)}" is not a digit 0..9 or -1` };
  }
  if (!tokens.length) return { error: "type at least one digit" };
  if (tokens.length > maxSteps) return { error: `${tokens.length.toLocaleString("en-US")} steps; at most ` +
                                                `${maxSteps.toLocaleString("en-US")}` };
  if (tokens.filter((t) => t === -1).length > 1) return { error: "at most one -1 (the task's sequences hold one)" };
  return { tokens };
}

/** The sequence with the -1 put at i, moved there, or (if it is at i) taken away: {tokens, under, at}. */
function toggleMinus(tokens, under, i) {
  const t = tokens.slice(), at = t.indexOf(-1);
  if (at >= 0) { // lift the -1 where it is: its digit comes back, or its step goes
    if (under !== null) t[at] = under;
    else if (t.length > 1) {
      t.splice(at, 1);
      if (at < i) i--;
    } else t[at] = 0;
  }
  if (at === i) return { tokens: t, under: null, at: Math.min(i, t.length - 1) };
  const covered = t[i];
  t[i] = -1;
  return { tokens: t, under: covered, at: i };
}

/** A random sequence of `length` digits, with a -1 at a random step if `withMinus`. */
function randomTokens(length, withMinus) {
  const t = Array.from({ length }, () => Math.floor(Math.random() * 10));
  if (!withMinus) return { tokens: t, under: null, at: length - 1 };
  const at = Math.floor(Math.random() * length), under = t[at];
  t[at] = -1;
  return { tokens: t, under, at };
}

/** The URL fragment of a view: #seq=1,2,-1,4&under=3&step=2&n=100000&seed=0. */
function writeFragment(view) {
  const parts = [`seq=${view.tokens.join(",")}`];
  if (view.under !== null) parts.push(`under=${view.under}`);
  parts.push(`step=${view.selected}`, `n=${view.n}`, `seed=${view.seed}`);
  return `#${parts.join("&")}`;
}

/** A view from a URL fragment, each part checked; a part that is missing or bad keeps `fallback`'s value. */
function readFragment(hash, fallback, limits) {
  const q = new URLSearchParams(hash.replace(/^#/, ""));
  const view = { ...fallback }, problems = [];
  const int = (key, lo, hi) => {
    if (!q.has(key)) return null;
    const v = Number(q.get(key));
    if (Number.isInteger(v) && v >= lo && v <= hi) return v;
    problems.push(`${key}=${q.get(key).slice(0, 12)}`);
    return null;
  };
  if (q.has("seq")) {
    const parsed = parseTokens(q.get("seq"), limits.max_steps);
    if (parsed.error) problems.push(`seq: ${parsed.error}`);
    else Object.assign(view, { tokens: parsed.tokens, under: null, selected: parsed.tokens.length - 1 });
  }
  const under = int("under", 0, 9);
  if (under !== null && view.tokens.includes(-1)) view.under = under;
  const selected = int("step", 0, view.tokens.length - 1);
  if (selected !== null) view.selected = selected;
  view.n = int("n", 1, limits.max_distance) ?? view.n;
  view.seed = int("seed", 0, 2 ** 32 - 1) ?? view.seed;
  return { view, problems };
}
