// What the console reads from its address at start: an SSO refusal (`?sso_error=`), an invitation
// (`#invite=`) or the MFA step after SSO (`#mfa`). The console keeps no credential: the session lives in
// HttpOnly cookies only the server reads; nothing is written to localStorage, sessionStorage or JS cookies.

/** A clear sentence for each reason the server gives when an SSO sign-in is refused. */
export const SSO_ERRORS: Readonly<Record<string, string>> = {
  state_unknown: 'The sign-in took too long or was already used. Start again.',
  binding_mismatch: 'The sign-in was started in another browser or tab. Start again from this browser.',
  nonce_mismatch: 'The identity provider’s answer did not belong to this sign-in (nonce mismatch). Start again.',
  audience_mismatch: 'The identity provider issued the sign-in for another application (wrong audience). Ask your administrator to check the SSO set-up.',
  issuer_mismatch: 'The answer came from an identity provider this team does not use (wrong issuer). Ask your administrator to check the SSO set-up.',
  code_invalid: 'The identity provider’s sign-in code was invalid, expired or already used. Start again.',
  email_unverified: 'Your identity provider has not verified your email address, so it cannot be used to sign in.',
  domain_not_allowed: 'Your email domain is not allowed to sign in to this team through SSO.',
  member_disabled: 'Your account on this team is disabled. Ask an administrator to enable it.',
  not_configured: 'Single sign-on is not set up for this email address’s team.',
  unsigned: 'The identity provider’s answer was not signed, so it was refused.',
  signature_invalid: 'The identity provider’s signature could not be verified. Ask your administrator to check the certificate in the SSO set-up.',
  recipient_mismatch: 'The identity provider sent the answer to another address (wrong recipient). Ask your administrator to check the SSO set-up.',
  expired: 'The identity provider’s answer has expired. Start again, and check your computer’s clock.',
  in_response_to_unknown: 'The identity provider’s answer did not match a sign-in started here. Start again from this page.',
  replayed: 'That sign-in answer was already used once, so it was refused. Start again.',
};

export const ssoErrorMessage = (code: string): string =>
  SSO_ERRORS[code] ?? `Single sign-on failed (reason: ${code}). Try again, or ask your administrator.`;

/** What the address asks for at start; the one-time parts are removed from the address bar once read. */
export interface Arrival {
  ssoError: string | null;
  inviteToken: string | null;
  mfa: boolean;
}

export function readArrival(): Arrival {
  const url = new URL(location.href);
  const ssoError = url.searchParams.get('sso_error');
  const hash = url.hash.slice(1);
  const inviteToken = hash.startsWith('invite=') ? decodeURIComponent(hash.slice('invite='.length)) || null : null;
  const mfa = hash === 'mfa';
  if (ssoError !== null || inviteToken !== null || mfa) {
    url.searchParams.delete('sso_error');
    // The token is a credential for one person: it leaves the address bar (and the history entry) at once.
    history.replaceState(history.state, '', `${url.pathname}${url.search}`);
  }
  return { ssoError: ssoError ? ssoError.slice(0, 100) : null, inviteToken, mfa };
}
