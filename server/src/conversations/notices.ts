// What the assistant says when it hands a conversation to a person. The texts are stored as the
// message (agents, the API channel and webhooks read them in English); a visitor's message carries the
// notice's code too, so the widget says it in the visitor's language.
import type { MessageNotice } from '@parley/protocol';

export const NOTICES: Record<MessageNotice, string> = {
  handoff: "I've asked a member of our team to take over. They'll reply here as soon as they can.",
  unsure: "I'm not confident I can answer that correctly from our documentation, so I've asked a member of our team to follow up here.",
  sensitive: "That's something a member of our team should handle personally. I've passed your conversation to them, and they'll reply here.",
  busy: "I can't answer right now, so I've asked a member of our team to follow up here.",
};

const BY_TEXT = new Map(Object.entries(NOTICES).map(([code, text]) => [text, code as MessageNotice]));

/** The notice an assistant message is, if it is one. */
export const noticeOf = (role: string, text: string): MessageNotice | undefined => (role === 'assistant' ? BY_TEXT.get(text) : undefined);
