import { defineProject } from 'vitest/config';
import { shared } from '../vitest.shared.js';

export default defineProject({
  ...shared,
  test: {
    name: 'sdk-browser',
    include: ['src/**/*.test.ts'],
    setupFiles: ['../server/src/test/contract-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
