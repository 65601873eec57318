// The running server's control file: while `parley serve` holds the embedded database (single-process),
// the CLI cannot open it, so the server writes where it listens and a per-start platform key into the data
// directory (mode 0600: only the same OS user reads it). `parley tenants create` and `users invite` then
// ask the running server instead, on the audited platform API. The key dies with the process.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ControlFile {
  url: string;
  pid: number;
  key: string;
}

const FILE = 'control.json';

export const newPlatformKey = (): string => `plt_${randomBytes(32).toString('base64url')}`;

export function writeControlFile(dataDir: string, control: ControlFile): void {
  const tmp = join(dataDir, `${FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(control)}\n`, { mode: 0o600 });
  renameSync(tmp, join(dataDir, FILE));
}

/** The running server's control file, or null when none is there (or it is not one). */
export function readControlFile(dataDir: string): ControlFile | null {
  try {
    const c = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as Partial<ControlFile>;
    return typeof c.url === 'string' && typeof c.key === 'string' && typeof c.pid === 'number' ? (c as ControlFile) : null;
  } catch {
    return null;
  }
}

/** Removes the file if it is still this process's (a newer server may have replaced it). */
export function removeControlFile(dataDir: string, key: string): void {
  if (readControlFile(dataDir)?.key === key) rmSync(join(dataDir, FILE), { force: true });
}

/** Constant-time: compares digests, so neither length nor content leaks through timing. */
export function isPlatformKey(presented: string, key: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(presented), h(key));
}
