export * from './problem.js';
export * from './admin.js';
export * from './providers.js';
export * from './knowledge.js';
export * from './answers.js';
export * from './widget.js';
export * from './identity.js';
export * from './webhooks.js';
