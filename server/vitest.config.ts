import { defineProject } from 'vitest/config';
import { shared } from '../vitest.shared.js';

export default defineProject({
  ...shared,
  test: {
    name: 'server',
    include: ['src/**/*.test.ts'],
    setupFiles: ['src/test/contract-setup.ts'],
    // A worker imports the server once for all its files, not once per file (most of the suite's import
    // time): every file starts its own app and database, so nothing a test relies on lives in a module.
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
