import type { Clock } from '../shared/clock.js';
import type { AlertChannelRecord } from '../store/alert-store.js';
import type { AlertMessage } from './alert-message.js';
import { activeSecrets, type ChannelTarget } from './channel-target.js';
import type { EmailSender } from './email-sender.js';
import { singleLine, truncate } from './escape-text.js';
import { OutboundError, postOutbound, type OutboundResponse, type Resolver } from './outbound-http.js';
import { renderDiscord } from './render-discord.js';
import { renderEmail } from './render-email.js';
import { PAGERDUTY_EVENTS_URL, renderPagerDuty } from './render-pagerduty.js';
import { renderSlack } from './render-slack.js';
import { renderWebhook } from './render-webhook.js';
import { parseRetryAfter } from './retry-policy.js';
import { standardWebhookHeaders } from './standard-webhooks.js';

/**
 * One attempt to put one message on one channel, and what the attempt means:
 * 2xx delivered; 410 Gone means the endpoint was removed (the channel gets disabled); 429 is
 * throttling (retry after Retry-After, not a sign of a broken channel); every other status,
 * including 3xx (redirects are never followed), a timeout or a refused target is a failure to retry.
 */
export type SendOutcome =
  | { kind: 'delivered'; statusCode: number | null }
  | { kind: 'failed'; error: string; statusCode: number | null; retryAfterMs?: number; rateLimited: boolean }
  | { kind: 'gone'; error: string; statusCode: number }
  | { kind: 'aborted' };

export interface SenderOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  /** Tests inject a resolver to prove the checked address is the one connected to. */
  resolve?: Resolver;
}

export class ChannelSender {
  constructor(
    private readonly clock: Clock,
    private readonly email: EmailSender | undefined,
    private readonly options: SenderOptions,
  ) {}

  async send(channel: AlertChannelRecord, target: ChannelTarget, message: AlertMessage, deliveryId: string, signal?: AbortSignal): Promise<SendOutcome> {
    switch (channel.type) {
      case 'slack':
        return this.post(target.url, JSON.stringify(renderSlack(message)), {}, signal);
      case 'discord':
        return this.post(target.url, JSON.stringify(renderDiscord(message)), {}, signal);
      case 'webhook': {
        const body = JSON.stringify(renderWebhook(message));
        const secrets = activeSecrets(target, this.clock.now());
        if (secrets.length === 0) return { kind: 'failed', error: 'the channel has no signing secret', statusCode: null, rateLimited: false };
        return this.post(target.url, body, standardWebhookHeaders(secrets, deliveryId, Math.floor(this.clock.now() / 1000), body), signal);
      }
      case 'pagerduty': {
        if (!target.routingKey) return { kind: 'failed', error: 'the channel has no routing key', statusCode: null, rateLimited: false };
        let last: SendOutcome = { kind: 'delivered', statusCode: null };
        for (const event of renderPagerDuty(message, target.routingKey)) {
          last = await this.post(target.url ?? PAGERDUTY_EVENTS_URL, JSON.stringify(event), {}, signal);
          if (last.kind !== 'delivered') return last;
        }
        return last;
      }
      case 'email':
        return this.sendEmail(target, message, deliveryId);
    }
  }

  private async post(url: string | undefined, body: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<SendOutcome> {
    if (!url) return { kind: 'failed', error: 'the channel has no URL', statusCode: null, rateLimited: false };
    let response: OutboundResponse;
    try {
      response = await postOutbound(url, body, headers, {
        allowPrivate: this.options.allowPrivate,
        timeoutMs: this.options.timeoutMs,
        ...(this.options.resolve ? { resolve: this.options.resolve } : {}),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      if (error instanceof OutboundError) {
        if (error.reason === 'aborted') return { kind: 'aborted' };
        return { kind: 'failed', error: error.message, statusCode: null, rateLimited: false };
      }
      return { kind: 'failed', error: 'unexpected error while sending', statusCode: null, rateLimited: false };
    }
    return classify(response, this.clock.now());
  }

  private async sendEmail(target: ChannelTarget, message: AlertMessage, deliveryId: string): Promise<SendOutcome> {
    if (!this.email) return { kind: 'failed', error: 'email is not configured on this server (SMTP_URL, ALERT_EMAIL_FROM)', statusCode: null, rateLimited: false };
    if (!target.to || target.to.length === 0) return { kind: 'failed', error: 'the channel has no recipients', statusCode: null, rateLimited: false };
    try {
      await this.email.send(target.to, renderEmail(message), deliveryId);
      return { kind: 'delivered', statusCode: null };
    } catch (error) {
      const e = error as { message?: string; responseCode?: number; code?: string };
      const detail = truncate(singleLine(e.message ?? e.code ?? 'unknown error'), 200);
      return { kind: 'failed', error: `SMTP: ${detail}`, statusCode: typeof e.responseCode === 'number' ? e.responseCode : null, rateLimited: false };
    }
  }
}

export function classify(response: OutboundResponse, now: number): SendOutcome {
  const status = response.status;
  if (status >= 200 && status < 300) return { kind: 'delivered', statusCode: status };
  const snippet = truncate(singleLine(response.body), 200);
  const error = `HTTP ${status}${snippet ? `: ${snippet}` : ''}`;
  if (status === 410) return { kind: 'gone', error, statusCode: status };
  if (status >= 300 && status < 400) return { kind: 'failed', error: `HTTP ${status}: redirect not followed`, statusCode: status, rateLimited: false };
  const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers['retry-after'], now) : undefined;
  return { kind: 'failed', error, statusCode: status, rateLimited: status === 429, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
}
