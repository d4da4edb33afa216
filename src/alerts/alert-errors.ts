import { AppError } from '../shared/app-error.js';

export const channelNotFound = () => new AppError('not_found', 'Alert channel not found');
export const deliveryNotFound = () => new AppError('not_found', 'Alert delivery not found');
export const invalidChannel = (problems: string[]) => new AppError('validation_failed', `Invalid alert channel: ${problems.join('; ')}`, { problems });
export const invalidDigestSettings = (problems: string[]) => new AppError('validation_failed', `Invalid digest settings: ${problems.join('; ')}`, { problems });
/** The URL points at an address alerts may not reach (SSRF rules); the reason names the range, never the URL. */
export const targetRefused = (reason: string) => new AppError('alert_target_refused', `The alert URL is not allowed: ${reason}`);
export const emailNotConfigured = () =>
  new AppError('email_not_configured', 'Email channels need SMTP_URL and ALERT_EMAIL_FROM in the server configuration');
export const tooManyChannels = (max: number) => new AppError('conflict', `A tenant can have at most ${max} alert channels`);
export const notAWebhookChannel = () => new AppError('conflict', 'Only webhook channels have a signing secret');
export const deliveryNotRetryable = (status: string) =>
  new AppError('conflict', status === 'delivered' ? 'The delivery succeeded; it is never sent again' : `The delivery is ${status}; retry it once that attempt has ended`);
export const channelDisabled = () => new AppError('conflict', 'The channel is disabled; re-enable it first');
