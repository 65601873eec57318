import { defineProject } from 'vitest/config';
import { shared } from '../vitest.shared.js';

// The server test starts a real app and database, which can take more than the default 10 s on a busy machine.
export default defineProject({
  ...shared,
  test: {
    name: 'sdk-node',
    include: ['src/**/*.test.ts'],
    setupFiles: ['../server/src/test/contract-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
