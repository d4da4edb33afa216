import Stripe from 'stripe';
import { secretMissing, signatureInvalid } from './webhook-errors.js';

const stripeSignature = (() => {
  const signature = Stripe.webhooks.signature;
  if (!signature) throw new Error('the stripe package does not expose webhook signature verification');
  return signature;
})();

export interface SignatureCheck {
  rawBody: Buffer;
  header: string | undefined;
  secrets: readonly string[];
  nowMs: number;
  toleranceSeconds: number;
}

/**
 * Stripe's scheme (`t=<unix>,v1=<hex hmac>` over `t.rawBody`), verified by the official SDK against
 * each active secret so a rotation overlap works. Our own checks run first for what the SDK does not
 * do: a timestamp too far in the future is refused like a stale one, and the SDK's exception text
 * never reaches the caller. Fails closed: no secret means no entry.
 */
export function verifyStripeSignature(check: SignatureCheck): void {
  if (check.secrets.length === 0) throw secretMissing();
  const header = check.header?.trim();
  if (!header) throw signatureInvalid('missing Stripe-Signature header');
  if (check.rawBody.length === 0) throw signatureInvalid('empty body');

  const timestamp = readTimestamp(header);
  if (timestamp === undefined || !/(^|,)\s*v1=[0-9a-f]{64}/.test(header)) throw signatureInvalid('malformed Stripe-Signature header');
  const nowSeconds = Math.floor(check.nowMs / 1000);
  if (nowSeconds - timestamp > check.toleranceSeconds)
    throw signatureInvalid(`timestamp is older than the ${check.toleranceSeconds} s tolerance`);
  if (timestamp - nowSeconds > check.toleranceSeconds)
    throw signatureInvalid(`timestamp is more than ${check.toleranceSeconds} s in the future`);

  for (const secret of check.secrets) {
    try {
      stripeSignature.verifyHeader(check.rawBody, header, secret, check.toleranceSeconds, undefined, check.nowMs);
      return;
    } catch {
      // Try the next active secret; which one failed is not the caller's business.
    }
  }
  throw signatureInvalid('no signature matches an active signing secret');
}

function readTimestamp(header: string): number | undefined {
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2);
    if (key === 't' && value !== undefined && /^\d{1,12}$/.test(value)) return Number(value);
  }
  return undefined;
}
