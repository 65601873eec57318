export * from './problem.js';
export * from './admin.js';
