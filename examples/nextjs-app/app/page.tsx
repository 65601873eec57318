// A server component: it signs the logged-in user's session on the server and renders the widget's
// script tag. The signing key stays here; the page receives only the signed, single-use token.
import { PARLEY_URL, PUBLISHABLE_KEY, currentUser, signSession } from '../lib/parley';
import { ParleyIdentify } from './identify';

// Rendered per request: a token is personal and accepted once, so it must never be cached or prerendered.
export const dynamic = 'force-dynamic';

export default async function AccountPage() {
  const user = await currentUser();
  const token = await signSession(user);
  return (
    <main>
      <h1>Welcome back, {user.name}</h1>
      <p>Ask the assistant in the corner: support sees you as a verified customer.</p>
      {!token && (
        <p role="status">Sign-In Pro is not configured (set PARLEY_SESSION_PRIVATE_KEY or PARLEY_IDENTITY_SECRET): the widget runs anonymously.</p>
      )}
      {!PUBLISHABLE_KEY && <p role="status">Set PARLEY_PUBLISHABLE_KEY to the tenant&apos;s pk_… key.</p>}
      {token && <ParleyIdentify token={token} />}
      <script src={`${PARLEY_URL}/loader.js`} data-key={PUBLISHABLE_KEY} async />
    </main>
  );
}
