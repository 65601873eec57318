// What the console reads from its address at start: an SSO refusal (`?sso_error=`), an invitation
// (`#invite=`) or the MFA step after SSO (`#mfa`). The console keeps no credential: the session lives in
// HttpOnly cookies only the server reads; no credential is written to localStorage, sessionStorage or JS
// cookies (localStorage holds only preferences, such as the inbox sound, and the audit log's last checkpoint).

/** A clear sentence for each reason the server gives when an SSO sign-in is refused. */
export const SSO_ERRORS: Readonly<Record<string, string>> = {
  // Either protocol
  not_configured: 'Single sign-on is not set up for this email address’s team.',
  idp_error: 'Your identity provider refused the sign-in.',
  issuer_mismatch: 'The answer came from an identity provider this team does not use (wrong issuer). Ask your administrator to check the SSO set-up.',
  audience_mismatch:
    'The identity provider issued the sign-in for another application (wrong audience). Ask your administrator to check the SSO set-up.',
  signature_invalid: 'The identity provider’s signature could not be verified. Ask your administrator to check the SSO set-up.',
  domain_not_allowed: 'Your email domain is not allowed to sign in to this team through SSO.',
  member_disabled: 'Your account on this team is disabled. Ask an administrator to enable it.',
  link_required:
    'Your account on this team already has a password. Sign in below with it once (within 10 minutes, in this browser): single sign-on is then linked to your account.',
  identity_mismatch:
    'Your account on this team is linked to another account at your identity provider. If your account there was replaced, ask an administrator to reset your single sign-on link (Team).',
  sign_in_failed: 'The sign-in could not be completed. Start again.',
  // OpenID Connect
  state_unknown: 'The sign-in took too long or was already used. Start again.',
  state_used: 'That sign-in link was already used once. Start again.',
  state_expired: 'The sign-in took too long. Start again.',
  binding_mismatch: 'The sign-in was started in another browser or tab. Start again from this browser.',
  config_changed: 'The team’s SSO set-up changed during your sign-in. Start again.',
  idp_unreachable: 'Your identity provider could not be reached just now. Try again in a minute.',
  issuer_refused: 'The identity provider’s address is not allowed for this server. Ask your administrator.',
  code_replayed: 'That sign-in code was already used once, so it was refused. Start again.',
  code_invalid: 'The identity provider’s sign-in code was invalid, expired or already used. Start again.',
  nonce_mismatch: 'The identity provider’s answer did not belong to this sign-in (nonce mismatch). Start again.',
  token_expired: 'The identity provider’s answer has expired. Start again, and check your computer’s clock.',
  token_invalid: 'The identity provider’s answer could not be verified. Start again, or ask your administrator.',
  token_replayed: 'That sign-in answer was already used once, so it was refused. Start again.',
  email_missing: 'Your identity provider sent no email address. Ask your administrator to release the email claim.',
  email_unverified: 'Your identity provider has not verified your email address, so it cannot be used to sign in.',
  // SAML 2.0
  malformed: 'The sign-in response from your identity provider could not be read. Try again.',
  binding_missing: 'This sign-in was not started in this browser (or took too long). Start again from this page.',
  browser_mismatch: 'This sign-in was started in another browser. Start again from this page.',
  unsigned: 'The identity provider’s answer was not signed, so it was refused. Ask your administrator to sign SAML assertions.',
  weak_signature: 'Your identity provider signed with SHA-1, which is refused. Ask your administrator to use SHA-256.',
  recipient_mismatch: 'The identity provider sent the answer to another address (wrong recipient). Ask your administrator to check the SSO set-up.',
  expired: 'The identity provider’s answer has expired. Start again, and check your computer’s clock.',
  not_yet_valid: 'The identity provider’s answer is not valid yet (the clocks disagree). Try again in a minute.',
  in_response_to_unknown: 'The identity provider’s answer did not match a sign-in started here. Start again from this page.',
  request_expired: 'The sign-in took too long. Start again from this page.',
  replayed: 'That sign-in answer was already used once, so it was refused. Start again.',
  no_email: 'Your identity provider sent no email address. Ask your administrator to release the email attribute.',
  sign_in_refused: 'The sign-in was refused.',
  unavailable: 'The sign-in could not be completed just now. Try again.',
};

/** The shape of every reason the server gives; anything else in the address was put there by someone else. */
/**
 * The sentence for a refusal's code. Every code the server gives has one; any other (the address is anyone's to
 * write) gets the generic sentence alone, so a link cannot put words of its own on the sign-in page, not even
 * code-shaped ones.
 */
export const ssoErrorMessage = (code: string): string =>
  (Object.hasOwn(SSO_ERRORS, code) ? SSO_ERRORS[code] : undefined) ?? 'Single sign-on failed. Try again, or ask your administrator.';

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
