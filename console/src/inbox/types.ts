// The workspace's wire shapes, from the protocol, plus the one the console assembles: a transcript
// message, as loaded (author is a member id with its name) or as streamed (author is an object).
import type { WorkspaceMessage } from '@parley/protocol';

export type {
  Availability,
  CannedReply,
  InboxCounts as Counts,
  InboxRow,
  InboxView as InboxViewName,
  Presence,
  TypingEventData as Typing,
} from '@parley/protocol';

export interface PaneMessage {
  id: string;
  role: string;
  text: string;
  redactions?: { class: string; action: string }[];
  /** A member id or a key's label (transcript), or the author as streamed. */
  author?: string | WorkspaceMessage['author'] | null;
  /** With a loaded transcript: the member's display name. */
  authorName?: string | null;
  createdAt: string;
}
