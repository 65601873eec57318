import { defineProject } from 'vitest/config';
import { shared } from '../vitest.shared.js';

export default defineProject({
  ...shared,
  test: {
    name: 'e2e',
    include: ['tests/**/*.test.ts'],
    setupFiles: ['../server/src/test/contract-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
