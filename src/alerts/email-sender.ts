import { createRequire } from 'node:module';
import type Nodemailer from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { EmailContent } from './render-email.js';

export interface EmailSettings {
  smtpUrl: string;
  from: string;
  timeoutMs: number;
}

/**
 * Sends alert emails through the operator's SMTP relay (`SMTP_URL`). The relay is configuration,
 * not tenant input, so it is not subject to the SSRF rules; recipients are the channel's
 * addresses. The Message-ID is derived from the delivery id, so a retry after an unclear failure
 * carries the same id and mail systems can drop the duplicate.
 */
export class EmailSender {
  private transporter: Transporter | undefined;

  constructor(private readonly settings: EmailSettings) {}

  async send(to: readonly string[], content: EmailContent, deliveryId: string): Promise<void> {
    // Required on the first email, not at start: most servers never send one (~10 MB resident).
    const nodemailer = createRequire(import.meta.url)('nodemailer') as typeof Nodemailer;
    this.transporter ??= nodemailer.createTransport({
      url: this.settings.smtpUrl,
      connectionTimeout: this.settings.timeoutMs,
      greetingTimeout: this.settings.timeoutMs,
      socketTimeout: this.settings.timeoutMs,
      dnsTimeout: this.settings.timeoutMs,
    });
    await this.transporter.sendMail({
      from: this.settings.from,
      to: [...to],
      subject: content.subject,
      text: content.text,
      html: content.html,
      messageId: `<${deliveryId}@meterwatch.alerts>`,
      headers: { 'X-Meterwatch-Delivery': deliveryId, 'Auto-Submitted': 'auto-generated' },
    });
  }

  close(): void {
    this.transporter?.close();
    this.transporter = undefined;
  }
}
