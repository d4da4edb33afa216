import { alertTitle, type AlertMessage, type IncidentAlert, type DigestAlert, type TestAlert } from './alert-message.js';
import { DIGEST_INCIDENT_LIMIT, digestRows } from './digest-lines.js';
import { escapeSlack, fitEscaped, singleLine, truncate } from './escape-text.js';

/**
 * A Slack incoming-webhook message in Block Kit, with a plain `text` fallback for notifications.
 * Limits from Slack's reference: header 150 characters, section text 3000, at most 10 fields of
 * 2000 each. Every user-derived string goes through `escapeSlack`.
 */
type Block = Record<string, unknown>;

export interface SlackMessage {
  text: string;
  blocks: Block[];
}

const EMOJI: Record<string, string> = { critical: ':red_circle:', warning: ':large_orange_circle:', info: ':large_blue_circle:' };
const MAX_FIGURES = 8;

const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const fit = (text: string, max: number) => fitEscaped(text, max, escapeSlack);
const field = (label: string, value: string) => mrkdwn(`*${fit(label, 100)}*\n${value === '' ? '—' : fit(value, 1800)}`);

export function renderSlack(message: AlertMessage): SlackMessage {
  switch (message.kind) {
    case 'incident':
      return incident(message);
    case 'digest':
      return digest(message);
    case 'test':
      return test(message);
  }
}

function incident(m: IncidentAlert): SlackMessage {
  const i = m.incident;
  const emoji = m.action === 'resolve' ? ':white_check_mark:' : (EMOJI[i.severity] ?? ':grey_question:');
  const title = `${emoji} ${alertTitle(m)}`;
  const summary = fit(i.summary, 2800);
  const resolution = m.action === 'resolve' && i.resolutionReason ? `\n_Resolution: ${fit(singleLine(i.resolutionReason), 150)}_` : '';
  const fields = [
    field('Subject', `${i.subject.type} ${i.subject.id}`),
    field('Severity', i.severity),
    ...Object.entries(i.figures)
      .slice(0, MAX_FIGURES)
      .map(([k, v]) => field(k, String(v))),
  ];
  return {
    text: `${title}: ${fit(singleLine(i.summary), 300)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
      { type: 'section', text: mrkdwn(`${summary}${resolution}`) },
      { type: 'section', fields },
      { type: 'context', elements: [mrkdwn(`Tenant ${escapeSlack(m.tenantId)} · first seen ${i.firstTriggeredAt} · <${i.url}|View anomaly ${escapeSlack(i.id)}>`)] },
    ],
  };
}

function digest(m: DigestAlert): SlackMessage {
  const d = m.digest;
  const title = `:bar_chart: ${alertTitle(m)}`;
  const fields = digestRows(d).map((r) => mrkdwn(`*${r.label}*\n${[String(r.count), ...r.amounts.map(escapeSlack)].join('\n')}`));
  // Whole lines only, within the section's 3000 characters: a cut could break a `<url|text>` link.
  const lines: string[] = [];
  let size = 0;
  for (const i of d.openIncidents.items.slice(0, DIGEST_INCIDENT_LIMIT)) {
    const line = `• <${i.url}|${fit(i.detector, 64)}> (${fit(i.severity, 16)}): ${fit(singleLine(i.summary), 200)}`;
    if (size + line.length > 2700) break;
    lines.push(line);
    size += line.length + 1;
  }
  if (d.openIncidents.total > lines.length) lines.push(`…and ${d.openIncidents.total - lines.length} more`);
  return {
    text: `${title}: ${escapeSlack(d.period.label)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: truncate(title, 150), emoji: true } },
      { type: 'context', elements: [mrkdwn(`${fit(d.period.label, 200)} · tenant ${fit(d.tenantId, 64)}`)] },
      { type: 'section', fields },
      { type: 'section', text: mrkdwn(d.openIncidents.total === 0 ? '*Open anomalies*\nNone' : `*Open anomalies (${d.openIncidents.total})*\n${lines.join('\n')}`) },
    ],
  };
}

function test(m: TestAlert): SlackMessage {
  const name = fit(singleLine(m.channelName), 100);
  return {
    text: `Meterwatch test message for channel ${name}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: ':wave: Meterwatch test message', emoji: true } },
      { type: 'section', text: mrkdwn(`This channel (*${name}*) receives alerts for tenant ${escapeSlack(m.tenantId)}. Sent at ${m.sentAt}.`) },
    ],
  };
}
