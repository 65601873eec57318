export {
  createClient,
  localStorageSession,
  newClientMessageId,
  memorySession,
  type ClientOptions,
  type ParleyClient,
  type SessionStorage,
  type StoredSession,
} from './client.js';
export { ParleyError, type ProblemFieldError } from './errors.js';
export { readSse, type SseMessage } from './sse.js';
export type {
  ActionOffer,
  AnswerEvent,
  Citation,
  Conversation,
  ConversationResponse,
  Handoff,
  LiveEvent,
  Message,
  MessageAuthor,
  OutsideHours,
  Visitor,
  WidgetProposal,
  WidgetProposeRequest,
  WidgetSession,
  WidgetSettings,
} from '@parley/protocol';
