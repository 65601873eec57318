import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { shared } from './vitest.shared.js';

export default defineConfig({
  ...shared,
  test: {
    projects: ['*/vitest.config.ts', 'examples/*/vitest.config.ts'],
    // Test files mostly wait (on databases, browsers, child processes): Vitest's default of one worker
    // fewer than the cores would run one file at a time on a two-core machine.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
