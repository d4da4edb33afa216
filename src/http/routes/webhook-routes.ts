import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../shared/app-error.js';
import type { WebhookRoute } from '../../webhooks/webhook-intake.js';
import { toAppError } from '../error-handler.js';
import { errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

const Receipt = Type.Object({ received: Type.Literal(true), duplicate: Type.Boolean() });

/**
 * Stripe deliveries. The body stays raw bytes (the signature covers them exactly), whatever the
 * Content-Type says; the JSON is parsed only after the signature is verified.
 */
export async function webhookRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const { metrics, config, webhookIntake } = services;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: config.webhook.maxBodyBytes }, (_req, body, done) => done(null, body));

  const handle = async (request: FastifyRequest, reply: FastifyReply, route: WebhookRoute) => {
    const started = process.hrtime.bigint();
    let outcome = 'error';
    let tenantId: string | undefined;
    try {
      const target = await webhookIntake.resolve(route);
      tenantId = target.tenantId;
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const signature = request.headers['stripe-signature'];
      const receipt = await webhookIntake.receive(target, body, typeof signature === 'string' ? signature : undefined);
      outcome = receipt.duplicate ? 'duplicate' : 'accepted';
      return reply.send({ received: true, duplicate: receipt.duplicate });
    } catch (error) {
      outcome = toAppError(error).code;
      throw error;
    } finally {
      metrics.webhooks.inc({ outcome, tenant: metrics.tenantLabel(tenantId) });
      metrics.webhookDuration.observe({ outcome }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  };

  const schema = {
    tags: ['webhooks'],
    headers: Type.Object({ 'stripe-signature': Type.Optional(Type.String()) }),
    response: { 200: Receipt, ...errorResponses(400, 404, 413, 429, 503) },
  };

  app.post('/webhooks/stripe', {
    bodyLimit: config.webhook.maxBodyBytes,
    schema: { ...schema, summary: 'Receive a Stripe webhook for the default tenant (STRIPE_WEBHOOK_SECRET)' },
  }, (request, reply) => handle(request, reply, { kind: 'default' }));

  app.post<{ Params: { tenantToken: string } }>('/webhook/:tenantToken', {
    bodyLimit: config.webhook.maxBodyBytes,
    schema: {
      ...schema,
      summary: 'Receive a Stripe webhook on a tenant’s own URL (that tenant’s signing secrets)',
      params: Type.Object({ tenantToken: Type.String({ maxLength: 128 }) }),
    },
  }, (request, reply) => {
    const token = request.params.tenantToken;
    if (!/^[A-Za-z0-9_-]+$/.test(token)) throw new AppError('not_found', 'Unknown webhook URL');
    return handle(request, reply, { kind: 'token', token });
  });
}
