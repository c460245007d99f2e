import { timingSafeEqual } from 'node:crypto';
import type { Credentials } from './options.ts';

export type AuthResult = 'ok' | 'missing' | 'invalid';

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * HTTP Basic with username = API key, password = secret key. 'missing' covers an absent or
 * undecodable header (answered 401, an assumption: Amplitude documents neither); 'invalid' is a
 * well-formed header with a key pair this listener does not accept (answered 403 `Invalid API Key`).
 */
export function checkBasicAuth(header: string | undefined, expected: Credentials): AuthResult {
  const match = header ? /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(header.trim()) : null;
  if (!match) return 'missing';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return 'missing';
  const apiKey = decoded.slice(0, colon);
  const secretKey = decoded.slice(colon + 1);
  return sameText(apiKey, expected.apiKey) && sameText(secretKey, expected.secretKey) ? 'ok' : 'invalid';
}
