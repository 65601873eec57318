// The workspace's wire shapes as the console reads them (the server's schemas are in the protocol).
export type InboxViewName = 'waiting' | 'mine' | 'unassigned' | 'open' | 'resolved';
export type HandoffStatus = 'pending' | 'assigned' | 'resolved';

export interface Assignee {
  id: string;
  displayName: string;
}

export interface InboxRow {
  conversationId: string;
  handoffId: string | null;
  status: HandoffStatus;
  reason: string | null;
  visitor: { ref: string; verified: boolean; name?: string | null };
  lastMessage: { role: string; text: string; at: string } | null;
  waitingSince: string | null;
  assignee: Assignee | null;
  unread?: number;
}

export interface Counts {
  waiting: number;
  mine: number;
  unassigned: number;
  open: number;
  resolved?: number;
}

export interface InboxMessage {
  id: string;
  conversationId?: string;
  role: string;
  text: string;
  redactions?: { class: string; action: string }[];
  author: string | { id?: string; name: string; initial?: string } | null;
  createdAt: string;
}

export interface Typing {
  role: 'visitor' | 'agent';
  name?: string;
  memberId?: string;
  active: boolean;
}

export type Availability = 'available' | 'away';
export interface Presence {
  memberId: string;
  displayName: string;
  availability: Availability;
  online?: boolean;
}
