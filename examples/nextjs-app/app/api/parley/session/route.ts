// A fresh Sign-In Pro token when the widget needs another one: the page's token is accepted once, so
// after a replay or an expiry the widget calls getToken, which posts here.
import { currentUser, signSession } from '../../../../lib/parley';

export async function POST(req: Request): Promise<Response> {
  // A same-origin fetch only: another site must not obtain tokens with this user's cookies.
  const site = req.headers.get('sec-fetch-site');
  if (site && site !== 'same-origin') return new Response(null, { status: 403 });
  const token = await signSession(await currentUser());
  if (!token) return Response.json({ error: 'set PARLEY_SESSION_PRIVATE_KEY or PARLEY_IDENTITY_SECRET' }, { status: 503 });
  return Response.json({ token }, { headers: { 'Cache-Control': 'no-store' } });
}
