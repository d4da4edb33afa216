import type { FastifyInstance } from 'fastify';
import { InvoiceSimulator, SimulationInputSchema, SimulationResultSchema, type SimulationInput } from '../../pricing/index.js';
import { requireAccess } from '../auth.js';
import { bearerAuth, errorResponses } from '../schemas.js';
import type { Services } from '../services.js';

/** The invoice simulator over HTTP: pure computation, any valid key may use it. */
export async function simulateRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const simulator = new InvoiceSimulator();
  app.post<{ Body: SimulationInput }>('/v1/simulate', {
    preHandler: requireAccess(services, { scope: 'read' }),
    schema: {
      tags: ['pricing'],
      summary: 'Simulate an invoice: tier-by-tier lines, commitments, credits, tax and totals per currency, in minor units',
      security: bearerAuth,
      body: SimulationInputSchema,
      response: { 200: SimulationResultSchema, ...errorResponses(400, 401, 403) },
    },
  }, async (request) => simulator.simulate(request.body));
}
