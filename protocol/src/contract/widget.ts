// The widget API (publishable key, widget session): config, identify, conversations, messages, events, typing, CSAT, contact; and the API channel (/v1/answers).
import { operations } from './operation.js';

export const widgetOperations = operations([]);
