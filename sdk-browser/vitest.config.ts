import { defineProject } from 'vitest/config';
import { shared } from '../vitest.shared.js';

export default defineProject({ ...shared, test: { name: 'sdk-browser', include: ['src/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } });
