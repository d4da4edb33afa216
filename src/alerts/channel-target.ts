import type { SecretBox } from '../crypto/secret-box.js';
import type { AlertChannelRecord } from '../store/alert-store.js';

/**
 * Where a channel sends, kept encrypted at rest as one JSON document: webhook URLs embed their
 * credentials (Slack's and Discord's path is the token), and routing keys and signing secrets are
 * credentials. The associated data names the tenant and the channel, so a ciphertext copied to
 * another row does not decrypt.
 */
export interface SigningSecret {
  secret: string;
  /** Null for the current secret; the end of the overlap for a rotated-out one (epoch ms). */
  expiresAt: number | null;
}

export interface ChannelTarget {
  url?: string;
  to?: string[];
  routingKey?: string;
  /** Webhook channels: newest first. */
  secrets?: SigningSecret[];
}

export class ChannelTargets {
  constructor(private readonly box: SecretBox) {}

  seal(tenantId: string, channelId: string, target: ChannelTarget): string {
    return this.box.encrypt(JSON.stringify(target), ad(tenantId, channelId));
  }

  open(channel: Pick<AlertChannelRecord, 'tenantId' | 'id' | 'configEnc'>): ChannelTarget {
    return JSON.parse(this.box.decrypt(channel.configEnc, ad(channel.tenantId, channel.id))) as ChannelTarget;
  }
}

/** The secrets that sign at `now`: the current one plus any rotated-out one still in its overlap. */
export function activeSecrets(target: ChannelTarget, now: number): string[] {
  return (target.secrets ?? []).filter((s) => s.expiresAt === null || s.expiresAt > now).map((s) => s.secret);
}

function ad(tenantId: string, channelId: string): string {
  return `tenant:${tenantId}:alert_channel:${channelId}:config`;
}
