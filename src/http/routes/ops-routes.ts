import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { Services } from '../services.js';
import { checkReadiness } from '../../ops/readiness.js';

export async function opsRoutes(app: FastifyInstance, services: Services): Promise<void> {
  app.get('/health/live', {
    schema: { tags: ['ops'], summary: 'The process is up', response: { 200: Type.Object({ status: Type.Literal('ok') }) } },
  }, async () => ({ status: 'ok' as const }));

  app.get('/health/ready', {
    schema: { tags: ['ops'], summary: 'Store reachable, migrations current, background loop ticking; 503 otherwise' },
  }, async (_request, reply) => {
    const report = await checkReadiness(services);
    return reply.status(report.status === 'ok' ? 200 : 503).send(report);
  });

  app.get('/metrics', { schema: { tags: ['ops'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.header('content-type', services.metrics.registry.contentType).send(body);
  });
}
