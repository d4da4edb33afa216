import { describe, expect, it } from 'vitest';
import { DEFAULT_SECRET } from '../support/test-app.js';
import { useTestApp } from '../support/use-test-app.js';
import { chargeSucceeded, signPayload } from '../support/stripe-events.js';

describe('operations endpoints', () => {
  const app = useTestApp('sqlite');

  it('is live at once, and ready only once the background loop has ticked', async () => {
    expect((await app.server.inject('/health/live')).json()).toEqual({ status: 'ok' });
    const cold = await app.server.inject('/health/ready');
    expect(cold.statusCode).toBe(503);
    expect(cold.json().checks.backgroundLoop).toEqual({ ok: false, detail: 'no tick yet' });
    await app.services.loop.tick();
    const ready = await app.server.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ok', checks: { store: { ok: true }, migrations: { ok: true }, backgroundLoop: { ok: true } } });
    // A loop that stops ticking makes the replica unready.
    app.clock.advance(60_000);
    expect((await app.server.inject('/health/ready')).statusCode).toBe(503);
  });

  it('exports Prometheus metrics for webhooks by outcome, with latency', async () => {
    const at = Math.floor(app.clock.now() / 1000);
    const payload = JSON.stringify(chargeSucceeded(at));
    await app.server.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: { 'content-type': 'application/json', 'stripe-signature': signPayload(payload, DEFAULT_SECRET, at) } });
    await app.server.inject({ method: 'POST', url: '/webhooks/stripe', payload, headers: { 'content-type': 'application/json', 'stripe-signature': 't=1,v1=00' } });
    const res = await app.server.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(/mw_webhooks_total\{outcome="accepted",tenant="default"\} 1/);
    expect(res.body).toMatch(/mw_webhooks_total\{outcome="signature_invalid",tenant="default"\} 1/);
    expect(res.body).toContain('mw_webhook_duration_seconds_bucket');
    expect(res.body).toContain('mw_store_errors_total');
    expect(res.body).toContain('mw_process_resident_memory_bytes');
  });

  it('publishes an OpenAPI document from the route schemas, and a docs page', async () => {
    const doc = (await app.server.inject('/openapi.json')).json();
    expect(doc.openapi).toBe('3.0.3');
    for (const path of ['/webhooks/stripe', '/webhook/{tenantToken}', '/v1/tenants', '/v1/api-keys', '/v1/billing-events', '/health/ready']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: 'http', scheme: 'bearer' });
    const page = await app.server.inject('/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<html');
  });

  it('carries a request id on every response, honouring a sane incoming one', async () => {
    const res = await app.server.inject({ url: '/nope', headers: { 'x-request-id': 'abc-123' } });
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.json().error).toEqual({ code: 'not_found', message: 'Route not found', requestId: 'abc-123' });
    const weird = await app.server.inject({ url: '/nope', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(weird.headers['x-request-id']).not.toBe('bad id with spaces');
  });
});
