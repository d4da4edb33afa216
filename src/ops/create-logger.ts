import pino, { type Logger } from 'pino';
import type { LogLevel } from '../config.js';

/** JSON logs; credentials are redacted even if a future log call passes them by mistake. */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'meterwatch' },
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers["stripe-signature"]',
        '*.apiKey',
        '*.key',
        '*.webhookSecret',
        '*.webhookSecrets',
        '*.stripeApiKey',
        '*.stripeWebhookSecret',
        '*.token',
        '*.webhookToken',
      ],
      censor: '[redacted]',
    },
  });
}
