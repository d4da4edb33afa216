import { alertTitle, type AlertMessage, type DigestAlert, type IncidentAlert, type TestAlert } from './alert-message.js';
import { DIGEST_INCIDENT_LIMIT, digestRows } from './digest-lines.js';
import { escapeDiscord, fitEscaped, singleLine, truncate } from './escape-text.js';

/**
 * A Discord webhook message with one embed. Limits from Discord's reference: title 256, description
 * 4096, at most 25 fields (name 256, value 1024), footer 2048, and 6000 characters for the whole
 * embed: the budgets below keep the worst case (every string at its cap) under that total.
 * `allowed_mentions: {parse: []}` makes every `@everyone` or `<@id>` in the data inert; markdown
 * is backslash-escaped.
 */
export interface DiscordEmbed {
  title: string;
  description: string;
  url?: string;
  color: number;
  fields: { name: string; value: string; inline: boolean }[];
  footer: { text: string };
  timestamp: string;
}

export interface DiscordMessage {
  username: string;
  allowed_mentions: { parse: never[] };
  embeds: DiscordEmbed[];
}

/** Severity colours (Slack's palette, so both chats look alike). */
export const DISCORD_COLOR = { critical: 0xe01e5a, warning: 0xecb22e, info: 0x36c5f0, resolved: 0x2eb67d, digest: 0x5865f2 } as const;
const MAX_FIGURES = 8;
const fit = (text: string, max: number) => fitEscaped(text, max, escapeDiscord);
const field = (name: string, text: string, inline = true) => ({ name: fit(name, 64), value: text === '' ? '—' : fit(text, 300), inline });

export function renderDiscord(message: AlertMessage): DiscordMessage {
  const embed = message.kind === 'incident' ? incident(message) : message.kind === 'digest' ? digest(message) : test(message);
  return { username: 'Meterwatch', allowed_mentions: { parse: [] }, embeds: [embed] };
}

function incident(m: IncidentAlert): DiscordEmbed {
  const i = m.incident;
  const color = m.action === 'resolve' ? DISCORD_COLOR.resolved : (DISCORD_COLOR[i.severity as 'info'] ?? DISCORD_COLOR.info);
  const resolution = m.action === 'resolve' && i.resolutionReason ? `\n\nResolution: ${fit(singleLine(i.resolutionReason), 200)}` : '';
  return {
    title: truncate(alertTitle(m), 256),
    description: `${fit(i.summary, 1500)}${resolution}`,
    url: i.url,
    color,
    fields: [
      field('Subject', `${i.subject.type} ${i.subject.id}`),
      field('Severity', i.severity),
      ...Object.entries(i.figures)
        .slice(0, MAX_FIGURES)
        .map(([k, v]) => field(k, String(v))),
    ],
    footer: { text: truncate(`Meterwatch · tenant ${m.tenantId} · anomaly ${i.id}`, 200) },
    timestamp: m.occurredAt,
  };
}

function digest(m: DigestAlert): DiscordEmbed {
  const d = m.digest;
  const lines: string[] = [];
  let size = 0;
  for (const i of d.openIncidents.items.slice(0, DIGEST_INCIDENT_LIMIT)) {
    // Whole lines within the field's 1024 characters: a cut could break a masked link.
    const line = `• [${fit(i.detector, 64)}](${i.url}) (${fit(i.severity, 16)}): ${fit(singleLine(i.summary), 120)}`;
    if (size + line.length > 950) break;
    lines.push(line);
    size += line.length + 1;
  }
  if (d.openIncidents.total > lines.length) lines.push(`…and ${d.openIncidents.total - lines.length} more`);
  return {
    title: alertTitle(m),
    description: fit(d.period.label, 200),
    color: DISCORD_COLOR.digest,
    fields: [
      ...digestRows(d).map((r) => ({ name: r.label, value: truncate([String(r.count), ...r.amounts.map(escapeDiscord)].join('\n'), 400), inline: true })),
      { name: `Open anomalies (${d.openIncidents.total})`, value: d.openIncidents.total === 0 ? 'None' : lines.join('\n'), inline: false },
    ],
    footer: { text: truncate(`Meterwatch · tenant ${d.tenantId}`, 200) },
    timestamp: d.period.end,
  };
}

function test(m: TestAlert): DiscordEmbed {
  return {
    title: alertTitle(m),
    description: `This channel (${fit(singleLine(m.channelName), 200)}) receives alerts for tenant ${fit(m.tenantId, 64)}.`,
    color: DISCORD_COLOR.info,
    fields: [],
    footer: { text: 'Meterwatch' },
    timestamp: m.sentAt,
  };
}
