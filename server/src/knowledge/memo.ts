// What the analysers work out again and again for the same input (a word's stem, a heading's facts, a
// synonym's terms): kept by key, bounded. When full, everything is forgotten at once: cheaper than an LRU's
// bookkeeping on every hit, and what keeps coming back is kept again at once.

/** `fn`, remembering its results by `keyOf(input)` (the input itself by default), at most `max` at a time.
 * For pure functions whose results are never mutated and never `undefined`. */
export function boundedMemo<I, V>(max: number, fn: (input: I) => V, keyOf: (input: I) => unknown = (input) => input): (input: I) => V {
  const kept = new Map<unknown, V>();
  return (input) => {
    const key = keyOf(input);
    let v = kept.get(key);
    if (v === undefined) {
      if (kept.size >= max) kept.clear();
      kept.set(key, (v = fn(input)));
    }
    return v;
  };
}
