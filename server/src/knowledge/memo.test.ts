import { expect, test } from 'vitest';
import { boundedMemo } from './memo.js';

test('a result is worked out once per key, and all are forgotten when the bound is reached', () => {
  const calls: string[] = [];
  const upper = boundedMemo(2, (s: string) => (calls.push(s), s.toUpperCase()));
  expect([upper('a'), upper('a'), upper('b'), upper('a')]).toEqual(['A', 'A', 'B', 'A']);
  expect(calls).toEqual(['a', 'b']);
  // A third key finds the memo full: it starts again, so 'a' is worked out anew.
  expect([upper('c'), upper('a'), upper('c')]).toEqual(['C', 'A', 'C']);
  expect(calls).toEqual(['a', 'b', 'c', 'a']);
});

test('inputs are told apart by the key they are given', () => {
  let calls = 0;
  const total = boundedMemo(
    10,
    (xs: readonly number[]) => (calls++, xs.reduce((a, b) => a + b, 0)),
    (xs) => xs.join(','),
  );
  expect(total([1, 2])).toBe(3);
  expect(total([1, 2])).toBe(3);
  expect(calls).toBe(1);
  expect(total([12])).toBe(12);
  expect(calls).toBe(2);
});
