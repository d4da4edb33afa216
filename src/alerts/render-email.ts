import { alertTitle, type AlertMessage, type DigestAlert, type IncidentAlert, type TestAlert } from './alert-message.js';
import { DIGEST_INCIDENT_LIMIT, digestRows, rowText } from './digest-lines.js';
import { escapeHtml, singleLine, truncate } from './escape-text.js';

/**
 * An alert email: a plain-text part and an HTML part saying the same. Every user-derived string
 * is HTML-escaped in the HTML part (attributes included) and the subject is one line, so neither
 * markup nor extra headers can be injected.
 */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function renderEmail(message: AlertMessage): EmailContent {
  switch (message.kind) {
    case 'incident':
      return incident(message);
    case 'digest':
      return digest(message);
    case 'test':
      return test(message);
  }
}

const page = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#1d1c1d">${body}` +
  `<p style="color:#616061;font-size:12px">Sent by Meterwatch.</p></body></html>`;

const table = (rows: [string, string][]) =>
  `<table style="border-collapse:collapse">${rows
    .map(([k, v]) => `<tr><th style="text-align:left;padding:2px 12px 2px 0">${escapeHtml(k)}</th><td style="padding:2px 0">${escapeHtml(v)}</td></tr>`)
    .join('')}</table>`;

function incident(m: IncidentAlert): EmailContent {
  const i = m.incident;
  const title = alertTitle(m);
  const rows: [string, string][] = [
    ['Subject', `${i.subject.type} ${i.subject.id}`],
    ['Severity', i.severity],
    ['Status', i.status],
    ['First seen', i.firstTriggeredAt],
    ...Object.entries(i.figures).map(([k, v]): [string, string] => [k, String(v)]),
    ...(m.action === 'resolve' && i.resolutionReason ? [['Resolution', i.resolutionReason] as [string, string]] : []),
    ['Tenant', m.tenantId],
    ['Anomaly', i.id],
  ];
  const text = [title, '', i.summary, '', ...rows.map(([k, v]) => `${k}: ${v}`), '', `View: ${i.url}`, ''].join('\n');
  const html = page(
    title,
    `<h2>${escapeHtml(title)}</h2><p>${escapeHtml(i.summary)}</p>${table(rows)}<p><a href="${escapeHtml(i.url)}">View the anomaly</a></p>`,
  );
  return { subject: subject(`${title}: ${i.summary}`), text, html };
}

function digest(m: DigestAlert): EmailContent {
  const d = m.digest;
  const title = alertTitle(m);
  const rows = digestRows(d).map((r): [string, string] => [r.label, rowText(r)]);
  const shown = d.openIncidents.items.slice(0, DIGEST_INCIDENT_LIMIT);
  const more = d.openIncidents.total - shown.length;
  const textIncidents = shown.map((i) => `- [${i.severity}] ${i.detector}: ${singleLine(i.summary)} (${i.url})`);
  const htmlIncidents = shown.map(
    (i) => `<li><a href="${escapeHtml(i.url)}">${escapeHtml(i.detector)}</a> (${escapeHtml(i.severity)}): ${escapeHtml(singleLine(i.summary))}</li>`,
  );
  const text = [
    `${title}: ${d.period.label}`,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    '',
    `Open anomalies: ${d.openIncidents.total}`,
    ...textIncidents,
    ...(more > 0 ? [`...and ${more} more`] : []),
    '',
  ].join('\n');
  const html = page(
    title,
    `<h2>${escapeHtml(title)}</h2><p>${escapeHtml(d.period.label)}</p>${table(rows)}` +
      `<h3>Open anomalies (${d.openIncidents.total})</h3>` +
      (shown.length === 0 ? '<p>None</p>' : `<ul>${htmlIncidents.join('')}${more > 0 ? `<li>…and ${more} more</li>` : ''}</ul>`),
  );
  return { subject: subject(`${title}: ${d.period.label}`), text, html };
}

function test(m: TestAlert): EmailContent {
  const title = alertTitle(m);
  const line = `This channel (${singleLine(m.channelName)}) receives alerts for tenant ${m.tenantId}. Sent at ${m.sentAt}.`;
  return { subject: subject(title), text: `${title}\n\n${line}\n`, html: page(title, `<h2>${escapeHtml(title)}</h2><p>${escapeHtml(line)}</p>`) };
}

function subject(text: string): string {
  return truncate(singleLine(`[Meterwatch] ${text}`), 160);
}
