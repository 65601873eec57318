// A room of live streams fed by one reader at a time (a conversation's streams, a tenant's inbox
// streams): a wake-up while a read runs is folded into one more read after it, so reads do not grow
// with wake-ups or with streams. A failed read ends the room's streams; their clients resume with
// Last-Event-ID and miss nothing.

export interface ReadRoom {
  listeners: Set<{ close(): void }>;
  reading: boolean;
  dirty: boolean;
}

/**
 * Reads with `readOnce` (true when a full batch means more is waiting) until nothing new is left; calls
 * `emptied` when the room has no stream left once reading stops.
 */
export function wake(room: ReadRoom, readOnce: () => Promise<boolean>, emptied: () => void): void {
  if (room.reading) {
    room.dirty = true;
    return;
  }
  room.reading = true;
  void (async () => {
    try {
      do {
        room.dirty = false;
        if (room.listeners.size === 0) break;
        if (await readOnce()) room.dirty = true;
      } while (room.dirty);
    } catch {
      for (const l of [...room.listeners]) l.close();
      room.listeners.clear();
    } finally {
      room.reading = false;
      if (room.listeners.size === 0) emptied();
    }
  })();
}
