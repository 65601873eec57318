export { createClient, localStore, type ClientOptions, type ParleyClient, type SessionStore, type StoredSession } from './client.js';
export { ParleyError, type ProblemFieldError } from './errors.js';
export { readSse, type SseMessage } from './sse.js';
export type { AnswerEvent, Citation, Conversation, Handoff, LiveEvent, Message, Visitor, WidgetSettings } from '@parley/protocol';
