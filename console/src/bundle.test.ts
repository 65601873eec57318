/// <reference types="node" />
// @vitest-environment node
// The console's bundle stays free of zod: values of the protocol come from its zod-free entry
// (`@parley/protocol/constants`); the main entry is imported for types only (erased at build).
import { readdirSync, readFileSync } from 'node:fs';
import { expect, test } from 'vitest';

// What the bundle is built from: not the tests, nor the helpers only tests import (src/test/).
const sources = (dir: URL): URL[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? e.name === 'test'
        ? []
        : sources(new URL(`${e.name}/`, dir))
      : /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)
        ? [new URL(e.name, dir)]
        : [],
  );

test('no console source imports a value from the zod entry of the protocol', () => {
  const offenders = sources(new URL('./', import.meta.url)).filter((f) =>
    /^import (?!type\b)[^;]*from '@parley\/protocol(?:\/contract)?';/m.test(readFileSync(f, 'utf8')),
  );
  expect(offenders.map((f) => f.pathname.replace(/.*\/src\//, 'src/'))).toEqual([]);
});
