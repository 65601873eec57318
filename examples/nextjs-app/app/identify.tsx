'use client';
// Hands the server-signed token to the widget. Commands queue on window.Parley until the widget has
// loaded (the loader keeps the queue), so the order of this effect and the script tag does not matter.
import { useEffect, useRef } from 'react';

type ParleyFn = ((...args: unknown[]) => void) & { q?: unknown[][] };
declare global {
  interface Window {
    Parley?: ParleyFn;
  }
}

async function getToken(): Promise<string> {
  const res = await fetch('/api/parley/session', { method: 'POST', credentials: 'same-origin' });
  if (!res.ok) throw new Error(`session endpoint answered ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

export function ParleyIdentify({ token }: { token: string }) {
  // Once per token: development mode runs effects twice, and a token is accepted once.
  const sent = useRef<string | null>(null);
  useEffect(() => {
    if (sent.current === token) return;
    sent.current = token;
    const w = window;
    w.Parley = w.Parley ?? Object.assign((...args: unknown[]) => void (w.Parley!.q = w.Parley!.q ?? []).push(args), {});
    w.Parley('identify', { token, getToken });
  }, [token]);
  return null;
}
