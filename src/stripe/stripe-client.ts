import Stripe from 'stripe';
import type { StripeConfig } from '../config.js';

/**
 * The one Stripe API version Meterwatch speaks, pinned here and nowhere else: every client the
 * server builds sends it, so a Stripe-side default change never alters what we parse.
 */
export const STRIPE_API_VERSION = '2026-10-28.endive' as const;

/** Builds Stripe clients for a key, honouring `STRIPE_API_BASE` for v1 and v2 calls alike. */
export type StripeClientFactory = (apiKey: string) => Stripe;

export function createStripeClientFactory(config: StripeConfig): StripeClientFactory {
  const cache = new Map<string, Stripe>();
  return (apiKey) => {
    let client = cache.get(apiKey);
    if (client === undefined) {
      client = new Stripe(apiKey, {
        apiVersion: STRIPE_API_VERSION,
        timeout: config.timeoutMs,
        maxNetworkRetries: config.maxNetworkRetries,
        telemetry: false,
        appInfo: { name: 'meterwatch' },
        // With a host set, the SDK also sends v2 meter-event streams (normally meter-events.stripe.com) there.
        ...(config.apiBase ? { host: config.apiBase.host, port: config.apiBase.port, protocol: config.apiBase.protocol } : {}),
      });
      // Bounded: a tenant rotating keys leaves at most a few stale clients behind.
      if (cache.size >= 1024) cache.delete(cache.keys().next().value as string);
      cache.set(apiKey, client);
    }
    return client;
  };
}
