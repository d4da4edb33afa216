import type { IncomingHttpHeaders } from 'node:http';
import type { Account } from './account.js';
import { type AccountRegistry, isSecretKey, maskKey } from './accounts.js';
import { type StripeApiError, authenticationError, v2Error } from './errors.js';
import { type SessionRegistry, sessionExpired } from './resources/meter-event-stream.js';

export const STREAM_PATH = '/v2/billing/meter_event_stream';

export interface Authenticated {
  account: Account | null;
  /** The key behind the request (for the stream: the key that opened the session), for the log. */
  apiKey: string;
  error: StripeApiError | null;
}

/**
 * A secret or restricted key in `Authorization` (Bearer, or Basic as curl sends it) selects the account;
 * the v2 meter event stream authenticates with a session token instead.
 */
export function authenticate(path: string, headers: IncomingHttpHeaders, accounts: AccountRegistry, sessions: SessionRegistry, nowMs: number): Authenticated {
  const credential = credentialOf(headers.authorization);
  if (path === STREAM_PATH) {
    const session = credential ? sessions.find(credential) : undefined;
    if (session === undefined)
      return { account: null, apiKey: '', error: v2Error(401, 'invalid_request_error', 'Invalid or missing meter event session authentication token.') };
    if (nowMs >= session.expiresAtMs) return { account: null, apiKey: session.account.apiKey, error: sessionExpired() };
    return { account: session.account, apiKey: session.account.apiKey, error: null };
  }
  if (!credential)
    return {
      account: null,
      apiKey: '',
      error: authenticationError(
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      ),
    };
  if (!isSecretKey(credential)) return { account: null, apiKey: credential, error: authenticationError(`Invalid API Key provided: ${maskKey(credential)}`) };
  return { account: accounts.get(credential), apiKey: credential, error: null };
}

function credentialOf(header: string | undefined): string | null {
  if (!header) return null;
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+(.+)$/i.exec(header);
  if (basic) return Buffer.from(basic[1]!, 'base64').toString('utf8').split(':')[0] || null;
  return null;
}
