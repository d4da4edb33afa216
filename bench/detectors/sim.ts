/**
 * Drives the real Meterwatch (`createApp` on SQLite, a ManualClock) through the synthetic traffic:
 * time advances in steps; every delivery that has arrived by the end of a step is stored as a live
 * webhook (signed and verified through the intake, or straight into the store), then the detector
 * engine drains the feed; every simulated hour the scheduled detectors and auto-resolve run.
 * Nothing sleeps: the clock is moved.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { ManualClock } from '../../src/shared/clock.js';
import { parseStripeEvent } from '../../src/webhooks/parse-stripe-event.js';
import type { IncidentRecord } from '../../src/store/detector-store.js';
import type { WebhookTarget } from '../../src/tenants/tenant-service.js';
import { Rng } from './prng.js';
import { SIM_START_MS } from './generator/calendar.js';
import { DeliveryModel, type DeliveryStats } from './generator/delivery.js';
import { MinHeap } from './generator/heap.js';
import { PROFILES, type TenantProfile } from './generator/profiles.js';
import { DAY_MS, HOUR_MS, MINUTE_MS, type Delivery, type Injection } from './generator/types.js';
import { TenantWorld } from './generator/world.js';
import type { InjectContext } from './inject/context.js';
import { PLAN } from './inject/plan.js';

export interface SimOptions {
  seed: string;
  days: number;
  stepMinutes: number;
  intake: 'signed' | 'store';
  keepData: boolean;
  progress: (line: string) => void;
}

export interface TenantRun {
  profile: TenantProfile;
  tenantId: string;
  delivery: DeliveryStats;
  stored: number;
  duplicates: number;
  eventsByType: Map<string, number>;
}

export interface SimResult {
  tenants: TenantRun[];
  injections: Injection[];
  /** Incidents per tenant key ('default' for the bootstrap tenant). */
  incidents: Map<string, IncidentRecord[]>;
  startMs: number;
  endMs: number;
  wallMs: number;
  drainMs: number;
  scheduleMs: number;
  dataDir: string;
}

interface Tenant {
  run: TenantRun;
  world: TenantWorld;
  delivery: DeliveryModel;
  secret: string;
  target: WebhookTarget | undefined;
}

export async function simulate(o: SimOptions): Promise<SimResult> {
  const started = performance.now();
  const dataDir = fs.mkdtempSync(path.join(tempRoot(), 'mw-bench-detectors-'));
  const removeDir = () => {
    if (!o.keepData) fs.rmSync(dataDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    removeDir();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const sqliteFile = path.join(dataDir, 'mw.db');
  const clock = new ManualClock(SIM_START_MS);
  const config = parseConfig({
    DATABASE_URL: `sqlite:${sqliteFile}`,
    MW_DATA_DIR: dataDir,
    STRIPE_WEBHOOK_SECRET: `whsec_${new Rng(o.seed).base62(32)}`,
    MW_ADMIN_TOKEN: 'bench-detectors-admin-token-0123456789',
    LOG_LEVEL: 'silent',
  });
  const app: App = await createApp(config, { clock });
  const { services } = app;
  const engine = services.detectorEngine;
  try {
    const injections: Injection[] = [];
    const tenants: Tenant[] = [];
    for (const profile of PROFILES) {
      const secret = `whsec_${Rng.stream(o.seed, `secret/${profile.key}`).base62(32)}`;
      const created = await services.tenants.create({ name: profile.name, stripeWebhookSecret: secret });
      const target = o.intake === 'signed' ? await services.webhookIntake.resolve({ kind: 'token', token: created.webhookToken }) : undefined;
      const world = new TenantWorld(profile, o.seed, SIM_START_MS);
      const delivery = new DeliveryModel(Rng.stream(o.seed, `delivery/${profile.key}`));
      const run: TenantRun = { profile, tenantId: created.id, delivery: delivery.stats, stored: 0, duplicates: 0, eventsByType: new Map() };
      tenants.push({ run, world, delivery, secret, target });
      const plan = PLAN[profile.key];
      if (plan) {
        let n = 0;
        const ctx: InjectContext = {
          world,
          delivery,
          rng: Rng.stream(o.seed, `inject/${profile.key}`),
          expect(spec) {
            n += 1;
            const inj: Injection = {
              id: `${profile.key}#${n}`,
              tenantKey: profile.key,
              detector: spec.detector,
              label: spec.label,
              subjectType: spec.subjectType,
              subjectId: spec.subjectId ?? (spec.subjectType === 'tenant' ? created.id : undefined),
              startsAt: spec.startsAt,
              window: spec.window,
              explains: spec.explains ?? [],
            };
            injections.push(inj);
            return inj;
          },
        };
        plan(ctx);
      }
    }
    const byKey = new Map(tenants.map((t) => [t.run.profile.key, t]));

    const endMs = SIM_START_MS + o.days * DAY_MS;
    const stepMs = o.stepMinutes * MINUTE_MS;
    const pending = new MinHeap<Delivery>();
    let drainMs = 0;
    let scheduleMs = 0;
    let stored = 0;
    let dayStarted = performance.now();

    for (let t = SIM_START_MS; t < endMs; t += stepMs) {
      const stepEnd = Math.min(endMs, t + stepMs);
      for (const tenant of tenants) {
        for (const event of tenant.world.advanceTo(stepEnd)) {
          const counts = tenant.run.eventsByType;
          counts.set(event.type, (counts.get(event.type) ?? 0) + 1);
          for (const d of tenant.delivery.deliveries(event)) pending.push(d.receivedAt, d);
        }
      }
      for (let key = pending.peekKey(); key !== undefined && key < stepEnd; key = pending.peekKey()) {
        const d = pending.pop()!;
        const tenant = byKey.get(d.tenantKey)!;
        const inserted = await deliver(app, clock, tenant, d, o.intake);
        if (inserted) {
          tenant.run.stored += 1;
          stored += 1;
        } else tenant.run.duplicates += 1;
      }
      clock.set(stepEnd);
      const d0 = performance.now();
      await engine.drain();
      drainMs += performance.now() - d0;
      if (stepEnd % HOUR_MS === 0) {
        const s0 = performance.now();
        await engine.runSchedule();
        scheduleMs += performance.now() - s0;
      }
      if ((stepEnd - SIM_START_MS) % DAY_MS === 0) {
        const day = (stepEnd - SIM_START_MS) / DAY_MS;
        o.progress(`  day ${String(day).padStart(2)}/${o.days}: ${stored.toLocaleString('en-US')} events stored, ${((performance.now() - dayStarted) / 1000).toFixed(1)} s for the day`);
        dayStarted = performance.now();
      }
    }
    // Deliveries still in flight at the end arrive and are evaluated. No schedule runs after them: the
    // simulated accounts stop producing events at the end, so the clock (moved to the last late
    // delivery, up to 3 h on) would show every tenant a silence that only the simulation created.
    for (let d = pending.pop(); d !== undefined; d = pending.pop()) {
      clock.set(Math.max(clock.now(), d.receivedAt));
      const tenant = byKey.get(d.tenantKey)!;
      if (await deliver(app, clock, tenant, d, o.intake)) tenant.run.stored += 1;
      else tenant.run.duplicates += 1;
    }
    await engine.drain();

    const incidents = new Map<string, IncidentRecord[]>();
    for (const tenant of tenants) incidents.set(tenant.run.profile.key, await services.store.detectors.listIncidents(tenant.run.tenantId, { limit: 100_000 }));
    for (const record of await services.store.listTenants()) {
      if (tenants.some((t) => t.run.tenantId === record.id)) continue;
      incidents.set('default', await services.store.detectors.listIncidents(record.id, { limit: 100_000 }));
    }
    return {
      tenants: tenants.map((t) => t.run),
      injections,
      incidents,
      startMs: SIM_START_MS,
      endMs,
      wallMs: performance.now() - started,
      drainMs,
      scheduleMs,
      dataDir,
    };
  } finally {
    await app.close();
    removeDir();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/**
 * RAM-backed temp space when there is some (/dev/shm): this benchmark measures detection quality,
 * and SQLite's checkpoint fsyncs on a disk would only add wall time.
 */
function tempRoot(): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

/** Stores one delivery as a live webhook; false when it was a duplicate (a redelivery). */
async function deliver(app: App, clock: ManualClock, tenant: Tenant, d: Delivery, intake: SimOptions['intake']): Promise<boolean> {
  if (intake === 'signed' && tenant.target) {
    clock.set(Math.max(clock.now(), d.receivedAt));
    const header = Stripe.webhooks.generateTestHeaderString({ payload: d.payload, secret: tenant.secret, timestamp: Math.floor(d.receivedAt / 1000) });
    const receipt = await app.services.webhookIntake.receive(tenant.target, Buffer.from(d.payload, 'utf8'), header);
    return !receipt.duplicate;
  }
  const { inserted } = await app.services.store.insertBillingEvent(parseStripeEvent(d.payload, tenant.run.tenantId, 'webhook', d.receivedAt));
  return inserted;
}
