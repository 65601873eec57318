// Server-sent events over fetch: EventSource cannot send the Authorization header.

/** One parsed server-sent event. */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Parses an SSE byte stream into events (comments and unknown fields are ignored). */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let ended = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
      buffer += decoder.decode(value, { stream: true });
      let cut: number;
      while ((cut = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut).replace(/^\r?\n\r?\n/, '');
        const msg: SseMessage = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split(/\r?\n/)) {
          if (!line || line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'event') msg.event = val;
          else if (field === 'data') data.push(val);
          else if (field === 'id') msg.id = val;
        }
        if (data.length) {
          msg.data = data.join('\n');
          yield msg;
        }
      }
    }
  } finally {
    // A consumer that stops early must not leave the connection open.
    if (!ended) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
