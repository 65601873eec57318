// The visitor's typing, for the agent: at most one "typing" every few seconds while keys come, and one
// "stopped" on send, on blur, or after a pause; nothing when the visitor never started.
export interface TypingSender {
  input(): void;
  stop(): void;
}

export function typingSender(send: (active: boolean) => void, every = 3000, pause = 5000): TypingSender {
  let last = 0;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    clearTimeout(idle);
    if (!last) return;
    last = 0;
    send(false);
  };
  return {
    input() {
      const now = Date.now();
      if (now - last >= every) {
        last = now;
        send(true);
      }
      clearTimeout(idle);
      idle = setTimeout(stop, pause);
    },
    stop,
  };
}
