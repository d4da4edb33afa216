import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import type { TenantService, WebhookTarget } from '../tenants/tenant-service.js';
import type { TenantRateLimiter } from './tenant-rate-limiter.js';
import { parseStripeEvent } from './parse-stripe-event.js';
import { verifyStripeSignature } from './verify-stripe-signature.js';
import { rateLimited, unknownWebhookToken } from './webhook-errors.js';
import { GroupCommit } from '../shared/group-commit.js';
import type { BillingEventInput } from '../store/store.js';

export type WebhookRoute = { kind: 'default' } | { kind: 'token'; token: string };

export interface WebhookReceipt {
  tenantId: string;
  eventId: string;
  type: string;
  duplicate: boolean;
}

/**
 * Receive one Stripe delivery: find the tenant, verify, parse, store once. The promise resolves only
 * after the row is committed, so a 200 always means durable. Nothing else runs here: detectors and
 * metering read stored events through the feed, which is why a redelivery triggers nothing new.
 */
export class WebhookIntake {
  private readonly writer: GroupCommit<BillingEventInput, boolean>;

  constructor(
    private readonly store: Store,
    private readonly tenants: TenantService,
    private readonly limiter: TenantRateLimiter,
    private readonly clock: Clock,
    private readonly toleranceSeconds: number,
  ) {
    this.writer = new GroupCommit((events) => this.store.insertBillingEvents(events));
  }

  /** Which tenant a delivery is for, before anything else is checked; unknown token → 404. */
  async resolve(route: WebhookRoute): Promise<WebhookTarget> {
    const target = route.kind === 'default' ? await this.tenants.defaultWebhookTarget() : await this.tenants.webhookTargetByToken(route.token);
    if (!target) throw unknownWebhookToken();
    return target;
  }

  async receive(target: WebhookTarget, rawBody: Buffer, signatureHeader: string | undefined): Promise<WebhookReceipt> {
    const retryAfter = this.limiter.take(target.tenantId);
    if (retryAfter > 0) throw rateLimited(retryAfter);

    const now = this.clock.now();
    verifyStripeSignature({ rawBody, header: signatureHeader, secrets: target.secrets, nowMs: now, toleranceSeconds: this.toleranceSeconds });
    const event = parseStripeEvent(rawBody.toString('utf8'), target.tenantId, 'webhook', now);
    const inserted = await this.writer.submit(event);
    return { tenantId: target.tenantId, eventId: event.eventId, type: event.type, duplicate: !inserted };
  }
}
