import { describe, expect, it } from 'vitest';
import type { IncidentAlert } from '../../src/alerts/alert-message.js';
import { renderDiscord } from '../../src/alerts/render-discord.js';
import { renderEmail } from '../../src/alerts/render-email.js';
import { renderPagerDuty } from '../../src/alerts/render-pagerduty.js';
import { renderSlack } from '../../src/alerts/render-slack.js';
import { parseRetryAfter, backoffMs } from '../../src/alerts/retry-policy.js';
import { parseConfig, ConfigError } from '../../src/config.js';

const huge = 'x'.repeat(10_000);
const message: IncidentAlert = {
  kind: 'incident',
  action: 'open',
  notificationId: 'ntf_1',
  tenantId: 'default',
  occurredAt: '2026-11-20T12:00:00.000Z',
  incident: {
    id: 'anm_1',
    detector: 'refund_surge',
    severity: 'warning',
    status: 'open',
    summary: `${huge}\r\nBcc: victim@example.com`,
    subject: { type: 'customer', id: huge },
    figures: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`figure_${i}_${huge}`, huge])),
    firstTriggeredAt: '2026-11-20T12:00:00.000Z',
    openedAt: '2026-11-20T12:00:00.000Z',
    resolvedAt: null,
    resolutionReason: null,
    url: 'https://mw.example.test/v1/anomalies/anm_1',
  },
};

describe('alert renderers stay inside each destination’s limits', () => {
  it('Slack: header ≤ 150, section text ≤ 3000, at most 10 fields of ≤ 2000', () => {
    const slack = renderSlack(message);
    const blocks = slack.blocks as { type: string; text?: { text: string }; fields?: { text: string }[] }[];
    expect(blocks[0]!.text!.text.length).toBeLessThanOrEqual(150);
    expect(blocks[1]!.text!.text.length).toBeLessThanOrEqual(3000);
    expect(blocks[2]!.fields!.length).toBeLessThanOrEqual(10);
    for (const f of blocks[2]!.fields!) expect(f.text.length).toBeLessThanOrEqual(2000);
    expect(slack.text.length).toBeLessThanOrEqual(400);
  });

  it('Discord: description ≤ 4096, ≤ 25 fields with names ≤ 256 and values ≤ 1024', () => {
    const [embed] = renderDiscord(message).embeds;
    expect(embed!.description.length).toBeLessThanOrEqual(4096);
    expect(embed!.fields.length).toBeLessThanOrEqual(25);
    for (const f of embed!.fields) {
      expect(f.name.length).toBeLessThanOrEqual(256);
      expect(f.value.length).toBeLessThanOrEqual(1024);
    }
    const total = embed!.title.length + embed!.description.length + embed!.footer.text.length + embed!.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(6000);
  });

  it('PagerDuty: summary ≤ 1024 on one line; digests are not sent', () => {
    const [event] = renderPagerDuty(message, 'k'.repeat(32));
    expect(event!.event_action).toBe('trigger');
    if (event!.event_action === 'trigger') {
      expect(event!.payload.summary.length).toBeLessThanOrEqual(1024);
      expect(event!.payload.summary).not.toMatch(/[\r\n]/);
    }
  });

  it('email: the subject is one line, so user text cannot add headers', () => {
    const email = renderEmail(message);
    expect(email.subject).not.toMatch(/[\r\n]/);
    expect(email.subject.length).toBeLessThanOrEqual(160);
  });
});

describe('retry policy', () => {
  it('backs off exponentially with jitter up to an hour', () => {
    expect(backoffMs(1, () => 0)).toBe(15_000);
    expect(backoffMs(1, () => 1)).toBe(30_000);
    expect(backoffMs(3, () => 1)).toBe(120_000);
    expect(backoffMs(50, () => 1)).toBe(3_600_000);
    expect(backoffMs(50, () => 0)).toBe(1_800_000);
  });

  it('reads Retry-After as seconds or an HTTP date, bounded', () => {
    const now = Date.parse('2026-11-20T12:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('0', now)).toBe(1_000);
    expect(parseRetryAfter('Fri, 20 Nov 2026 12:05:00 GMT', now)).toBe(300_000);
    expect(parseRetryAfter('999999', now)).toBe(6 * 3_600_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('alert configuration', () => {
  it('has safe defaults', () => {
    expect(parseConfig({}, {}, '/tmp').alerts).toEqual({ smtpUrl: undefined, emailFrom: undefined, allowPrivateTargets: false, timeoutMs: 10_000 });
    expect(parseConfig({ SMTP_URL: 'smtps://u:p@mail.example.com:465', ALERT_EMAIL_FROM: 'Ops <ops@example.com>', MW_ALLOW_PRIVATE_ALERT_TARGETS: '1', MW_ALERT_TIMEOUT_MS: '2500' }, {}, '/tmp').alerts).toEqual({
      smtpUrl: 'smtps://u:p@mail.example.com:465',
      emailFrom: 'Ops <ops@example.com>',
      allowPrivateTargets: true,
      timeoutMs: 2500,
    });
  });

  it('reports every alert problem at once, without echoing the SMTP password', () => {
    let error: ConfigError | undefined;
    try {
      parseConfig({ SMTP_URL: 'http://user:hunter2@mail', MW_ALLOW_PRIVATE_ALERT_TARGETS: 'maybe', MW_ALERT_TIMEOUT_MS: '5' }, {}, '/tmp');
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.problems).toEqual([
      expect.stringMatching(/^SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/),
      expect.stringMatching(/^ALERT_EMAIL_FROM is required when SMTP_URL is set/),
      'MW_ALLOW_PRIVATE_ALERT_TARGETS must be 1 or 0, got "maybe"',
      'MW_ALERT_TIMEOUT_MS must be between 100 and 60000, got 5',
    ]);
    expect(error!.message).not.toContain('hunter2');
    expect(() => parseConfig({ ALERT_EMAIL_FROM: 'not an address' }, {}, '/tmp')).toThrow(/ALERT_EMAIL_FROM must be an address[\s\S]*SMTP_URL is not/);
  });
});
