import { hkdfSync } from 'node:crypto';

/** One configured signing seed, a separate key per purpose: a leaked widget key cannot sign checkpoints. */
export type KeyPurpose = 'audit-checkpoint' | 'widget-token' | 'console-session' | 'mfa-step';

export function deriveSeed(seed: Buffer, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', seed, Buffer.alloc(0), `parley/${purpose}/v1`, 32));
}
