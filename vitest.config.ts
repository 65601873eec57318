import { defineConfig } from 'vitest/config';
import { shared } from './vitest.shared.js';

export default defineConfig({
  ...shared,
  test: {
    projects: ['*/vitest.config.ts', 'examples/*/vitest.config.ts'],
  },
});
