/**
 * The explorer's access token, as Jupyter's: made at start, printed in the URL the operator opens
 * (`?token=`), then kept by the browser in a cookie for that origin only, so that the page's own
 * requests (and the event stream, which cannot set headers) carry it. Scripts may send
 * `Authorization: Bearer <token>`. Without a valid one every request is refused with a 401.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'lading_ui_token';

export function newAccessToken(): string {
  return randomBytes(24).toString('hex');
}

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token a request carries: `?token=`, a bearer header, or the cookie; '' when none. */
export function presentedTokens(req: IncomingMessage, query: URLSearchParams): { query: string; other: string[] } {
  const other: string[] = [];
  const auth = req.headers.authorization ?? '';
  const bearer = /^(?:Bearer|token)\s+(\S+)$/i.exec(auth);
  if (bearer?.[1]) other.push(bearer[1]);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) other.push(part.slice(eq + 1).trim());
  }
  return { query: query.get('token') ?? '', other };
}

/** The cookie that keeps the token for the page: not readable by scripts, sent only to this origin. */
export function tokenCookie(token: string, secure: boolean): string {
  return `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
