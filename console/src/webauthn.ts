// Passkeys through the browser's WebAuthn API (@simplewebauthn/browser). Kept behind one object so the
// tests can stand in for the authenticator; a cancelled or refused ceremony becomes a readable problem.
import { startAuthentication, startRegistration } from '@simplewebauthn/browser';
import { ApiError } from './api.js';

const refused = (err: unknown): ApiError =>
  new ApiError({
    type: 'about:blank',
    title: 'The passkey was not used',
    status: 0,
    detail:
      err instanceof Error && err.name === 'NotAllowedError'
        ? 'No passkey was used: the prompt was cancelled or timed out, or this device has no passkey for this site. Try again, or sign in another way.'
        : `The browser could not use a passkey${err instanceof Error ? `: ${err.message}` : '.'}`,
    request_id: '',
  });

export const webauthn = {
  /** Signs the server's challenge with an existing passkey. */
  async authenticate(optionsJSON: unknown): Promise<Record<string, unknown>> {
    try {
      return (await startAuthentication({
        optionsJSON: optionsJSON as Parameters<typeof startAuthentication>[0]['optionsJSON'],
      })) as unknown as Record<string, unknown>;
    } catch (err) {
      throw refused(err);
    }
  },
  /** Creates a new passkey for the server's registration options. */
  async register(optionsJSON: unknown): Promise<Record<string, unknown>> {
    try {
      return (await startRegistration({ optionsJSON: optionsJSON as Parameters<typeof startRegistration>[0]['optionsJSON'] })) as unknown as Record<
        string,
        unknown
      >;
    } catch (err) {
      throw refused(err);
    }
  },
};

/** The options object, whether the server sends it bare or as `{ options }`. */
export const optionsOf = (r: unknown): unknown => (r && typeof r === 'object' && 'options' in r ? (r as { options: unknown }).options : r);
