import type { AlertChannelRecord } from '../store/alert-store.js';
import type { ChannelTarget } from './channel-target.js';

/** A channel as the API shows it: credentials masked, signing secrets never (only how many are live). */
export interface AlertChannelView {
  id: string;
  tenantId: string;
  type: string;
  name: string;
  target: { url?: string; to?: string[]; routingKey?: string };
  minSeverity: string;
  detectors: string[] | null;
  sendResolved: boolean;
  sendDigests: boolean;
  enabled: boolean;
  status: 'ok' | 'failing' | 'disabled';
  disabledReason: string | null;
  health: {
    consecutiveFailures: number;
    failingSince: string | null;
    backedOffUntil: string | null;
    lastSuccessAt: string | null;
    lastFailureAt: string | null;
    lastError: string | null;
  };
  signing: { activeSecrets: number; previousSecretExpiresAt: string | null } | null;
  createdAt: string;
  updatedAt: string;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Origin plus the last four characters of path and query: enough to tell two Slack webhooks apart,
 * useless to post with (the path is the token). Credentials in the URL are never shown.
 */
export function maskUrl(raw: string): string {
  try {
    const url = new URL(raw);
    const rest = `${url.pathname}${url.search}`;
    return `${url.protocol}//${url.host}/…${rest.length > 12 ? rest.slice(-4) : ''}`;
  } catch {
    return '…';
  }
}

export const maskKey = (key: string) => `…${key.length > 12 ? key.slice(-4) : ''}`;

export function toChannelView(c: AlertChannelRecord, target: ChannelTarget, now: number): AlertChannelView {
  const secrets = target.secrets ?? [];
  const live = secrets.filter((s) => s.expiresAt === null || s.expiresAt > now);
  const previous = live.find((s) => s.expiresAt !== null);
  return {
    id: c.id,
    tenantId: c.tenantId,
    type: c.type,
    name: c.name,
    target: {
      ...(target.url !== undefined ? { url: maskUrl(target.url) } : {}),
      ...(target.to !== undefined ? { to: target.to } : {}),
      ...(target.routingKey !== undefined ? { routingKey: maskKey(target.routingKey) } : {}),
    },
    minSeverity: c.minSeverity,
    detectors: c.detectors,
    sendResolved: c.sendResolved,
    sendDigests: c.sendDigests,
    enabled: c.enabled,
    status: !c.enabled ? 'disabled' : c.failingSince !== null ? 'failing' : 'ok',
    disabledReason: c.disabledReason,
    health: {
      consecutiveFailures: c.consecutiveFailures,
      failingSince: iso(c.failingSince),
      backedOffUntil: c.blockedUntil !== null && c.blockedUntil > now ? iso(c.blockedUntil) : null,
      lastSuccessAt: iso(c.lastSuccessAt),
      lastFailureAt: iso(c.lastFailureAt),
      lastError: c.lastError,
    },
    signing: c.type === 'webhook' ? { activeSecrets: live.length, previousSecretExpiresAt: previous ? iso(previous.expiresAt) : null } : null,
    createdAt: iso(c.createdAt)!,
    updatedAt: iso(c.updatedAt)!,
  };
}
