// The whole HTTP API, operation by operation (see operation.ts). A route the server registers and this
// table does not list fails the router-table test; so does an entry no route serves.
import { adminOperations } from './admin.js';
import { knowledgeOperations } from './knowledge.js';
import type { Operation } from './operation.js';
import { peopleOperations } from './people.js';
import { settingsOperations } from './settings.js';
import { systemOperations } from './system.js';
import { widgetOperations } from './widget.js';
import { workspaceOperations } from './workspace.js';

export * from './operation.js';
export * from './match.js';

export const OPERATIONS: readonly Operation[] = [
  ...systemOperations,
  ...widgetOperations,
  ...peopleOperations,
  ...adminOperations,
  ...settingsOperations,
  ...knowledgeOperations,
  ...workspaceOperations,
];
