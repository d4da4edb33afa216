import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Stripe from 'stripe';
import { repoRoot } from './paths.js';

/**
 * Realistic Stripe deliveries for the webhook scenarios: Stripe's published example `charge` and
 * `invoice` objects (../shared/fixtures/stripe/fixtures3.json) in event envelopes, each with its own
 * event id, object id, customer, amount and currency, and each signed the way Stripe signs
 * (`Stripe-Signature: t=…,v1=…` over `t.rawBody`). Bodies are rendered from templates and signed
 * BEFORE the load starts, so the load generator spends its CPU on sending, not on HMACs.
 */

export const API_VERSION = '2025-08-27.basil';

export type BenchEventType = 'charge.succeeded' | 'charge.failed' | 'invoice.paid';

/** 6 : 2 : 2, in a fixed order, so every run sends the same mix. */
const MIX: BenchEventType[] = [
  'charge.succeeded',
  'charge.succeeded',
  'charge.failed',
  'charge.succeeded',
  'invoice.paid',
  'charge.succeeded',
  'charge.succeeded',
  'charge.failed',
  'charge.succeeded',
  'invoice.paid',
];

const CURRENCIES = ['usd', 'usd', 'usd', 'eur', 'gbp'];
/**
 * Customers the events are spread over. With 1,000 (the default, kept for comparison with earlier
 * runs) every customer declines several times a minute at the measured rates, so every failed
 * charge extends a `customer_failure_cluster` incident: a storm, the detectors' worst case.
 * `MW_BENCH_CUSTOMERS` sets another count (e.g. 100000, closer to a tenant with this much traffic).
 */
const CUSTOMERS = benchCustomers();

function benchCustomers(): number {
  const raw = process.env.MW_BENCH_CUSTOMERS;
  if (raw === undefined || raw === '') return 1_000;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1 || n > 10_000_000) throw new Error(`MW_BENCH_CUSTOMERS must be an integer from 1 to 10000000, got ${raw}`);
  return n;
}

export function fixturesPath(): string {
  const fromEnv = process.env.MW_BENCH_FIXTURES;
  if (fromEnv) return path.resolve(fromEnv);
  return path.resolve(repoRoot(), '../shared/fixtures/stripe/fixtures3.json');
}

function loadFixtures(): Record<string, Record<string, unknown>> {
  const file = fixturesPath();
  if (!fs.existsSync(file)) {
    throw new Error(`Stripe fixtures not found at ${file} (set MW_BENCH_FIXTURES to fixtures3.json)`);
  }
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { resources?: Record<string, Record<string, unknown>> };
  if (!parsed.resources?.charge || !parsed.resources.invoice) throw new Error(`${file} has no "charge"/"invoice" resources`);
  return parsed.resources;
}

/**
 * A JSON document with `"@@name@@"` holes, split once so rendering is string concatenation.
 * Values are inserted already JSON-encoded (a number, or a quoted id).
 */
class Template {
  private readonly parts: string[] = [];
  private readonly holes: string[] = [];

  constructor(document: unknown) {
    const json = JSON.stringify(document);
    const re = /"@@([A-Za-z]+)@@"/g;
    let last = 0;
    for (let m = re.exec(json); m; m = re.exec(json)) {
      this.parts.push(json.slice(last, m.index));
      this.holes.push(m[1] ?? '');
      last = m.index + m[0].length;
    }
    this.parts.push(json.slice(last));
  }

  render(values: Record<string, string>): string {
    let out = this.parts[0] ?? '';
    for (let i = 0; i < this.holes.length; i++) {
      const name = this.holes[i] ?? '';
      const value = values[name];
      if (value === undefined) throw new Error(`template value "${name}" missing`);
      out += value + (this.parts[i + 1] ?? '');
    }
    return out;
  }
}

const hole = (name: string) => `@@${name}@@`;

function envelope(type: BenchEventType, object: Record<string, unknown>): Record<string, unknown> {
  return {
    id: hole('eventId'),
    object: 'event',
    api_version: API_VERSION,
    created: hole('created'),
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: hole('requestId'), idempotency_key: hole('idempotencyKey') },
    type,
  };
}

function buildTemplates(): Record<BenchEventType, Template> {
  const resources = loadFixtures();
  const charge = (failed: boolean) => ({
    ...structuredClone(resources.charge),
    id: hole('objectId'),
    amount: hole('amount'),
    amount_captured: failed ? 0 : hole('amount'),
    captured: !failed,
    paid: !failed,
    status: failed ? 'failed' : 'succeeded',
    failure_code: failed ? 'card_declined' : null,
    failure_message: failed ? 'Your card was declined.' : null,
    currency: hole('currency'),
    customer: hole('customer'),
    created: hole('created'),
    payment_intent: hole('paymentIntent'),
    balance_transaction: failed ? null : hole('balanceTransaction'),
    description: 'Meterwatch benchmark charge',
  });
  const invoice = {
    ...structuredClone(resources.invoice),
    id: hole('objectId'),
    customer: hole('customer'),
    currency: hole('currency'),
    status: 'paid',
    amount_due: hole('amount'),
    amount_paid: hole('amount'),
    amount_remaining: 0,
    amount_overpaid: 0,
    subtotal: hole('amount'),
    subtotal_excluding_tax: hole('amount'),
    total: hole('amount'),
    total_excluding_tax: hole('amount'),
    attempted: true,
    attempt_count: 1,
    billing_reason: 'subscription_cycle',
    created: hole('created'),
    period_start: hole('periodStart'),
    period_end: hole('created'),
    due_date: null,
    effective_at: hole('created'),
    next_payment_attempt: null,
    webhooks_delivered_at: hole('created'),
    status_transitions: { finalized_at: hole('created'), marked_uncollectible_at: null, paid_at: hole('created'), voided_at: null },
  };
  return {
    'charge.succeeded': new Template(envelope('charge.succeeded', charge(false))),
    'charge.failed': new Template(envelope('charge.failed', charge(true))),
    'invoice.paid': new Template(envelope('invoice.paid', invoice)),
  };
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Stripe-looking random ids (`evt_3Q…`, 24 random base62 characters after the prefix). */
class RandomIds {
  private buffer = randomBytes(65_536);
  private offset = 0;

  next(prefix: string, length = 24): string {
    if (this.offset + length > this.buffer.length) {
      this.buffer = randomBytes(65_536);
      this.offset = 0;
    }
    let id = prefix;
    for (let i = 0; i < length; i++) id += BASE62[(this.buffer[this.offset + i] ?? 0) % 62];
    this.offset += length;
    return id;
  }
}

export interface SignedPayload {
  body: Buffer;
  signature: string;
}

export function sign(payload: string, secret: string, timestampSeconds: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: timestampSeconds });
}

/** Renders unique events; `render(i)` never repeats an event id within a factory. */
export class EventFactory {
  private readonly templates = buildTemplates();
  private readonly ids = new RandomIds();
  private readonly customers: string[] = [];
  readonly counts: Record<BenchEventType, number> = { 'charge.succeeded': 0, 'charge.failed': 0, 'invoice.paid': 0 };
  private readonly seen = new Set<string>();
  private rendered = 0;

  constructor(readonly secret: string) {
    for (let i = 0; i < CUSTOMERS; i++) this.customers.push(this.ids.next('cus_', 14));
  }

  render(createdSeconds: number): string {
    const i = this.rendered++;
    const type = MIX[i % MIX.length] ?? 'charge.succeeded';
    this.counts[type] += 1;
    let eventId = this.ids.next('evt_3');
    // 143 random bits make a collision absurd, but a duplicate would corrupt the measurement: be sure.
    while (this.seen.has(eventId)) eventId = this.ids.next('evt_3');
    this.seen.add(eventId);
    const q = (s: string) => `"${s}"`;
    const amount = 500 + ((i * 7_919) % 99_500);
    return this.templates[type].render({
      eventId: q(eventId),
      created: String(createdSeconds),
      requestId: q(this.ids.next('req_', 14)),
      idempotencyKey: q(this.ids.next('', 32)),
      objectId: q(type === 'invoice.paid' ? this.ids.next('in_1') : this.ids.next('ch_3')),
      amount: String(amount),
      currency: q(CURRENCIES[i % CURRENCIES.length] ?? 'usd'),
      customer: q(this.customers[(i * 31) % this.customers.length] ?? 'cus_bench'),
      paymentIntent: q(this.ids.next('pi_3')),
      balanceTransaction: q(this.ids.next('txn_3')),
      periodStart: String(createdSeconds - 30 * 86_400),
    });
  }

  signed(nowSeconds: number): SignedPayload {
    const payload = this.render(nowSeconds);
    return { body: Buffer.from(payload, 'utf8'), signature: sign(payload, this.secret, nowSeconds) };
  }
}

/** A source of request payloads for the load generator; `next()` is called once per request sent. */
export interface PayloadSource {
  next(): SignedPayload;
}

/**
 * Pre-rendered, pre-signed unique events. Should the load outrun the pool, further events are
 * rendered and signed on the fly (still unique; counted in `lazy`, because that shifts CPU onto the
 * load generator).
 */
export class UniquePool implements PayloadSource {
  private readonly items: SignedPayload[] = [];
  private cursor = 0;
  lazy = 0;

  constructor(private readonly factory: EventFactory) {}

  /** Renders and signs `count` more events now, signed with the current time. */
  fill(count: number): { seconds: number } {
    const started = performance.now();
    const now = Math.floor(Date.now() / 1000);
    for (let i = 0; i < count; i++) this.items.push(this.factory.signed(now));
    return { seconds: (performance.now() - started) / 1000 };
  }

  /** Payloads handed out so far, in order. */
  get consumed(): number {
    return this.cursor;
  }

  get available(): number {
    return this.items.length - this.cursor;
  }

  next(): SignedPayload {
    const item = this.items[this.cursor];
    if (item) {
      this.cursor += 1;
      return item;
    }
    this.lazy += 1;
    const made = this.factory.signed(Math.floor(Date.now() / 1000));
    this.items.push(made);
    this.cursor += 1;
    return made;
  }

  /** The bodies handed out in [from, to): the events a completed run delivered. */
  bodies(from: number, to: number): Buffer[] {
    return this.items.slice(from, to).map((p) => p.body);
  }

  /** Drops the unsent remainder (memory). */
  trim(): void {
    this.items.length = this.cursor;
  }
}

/** Replays given bodies round-robin, each re-signed with a fresh timestamp (a Stripe redelivery). */
export class ReplaySource implements PayloadSource {
  private readonly items: SignedPayload[];
  private cursor = 0;

  constructor(bodies: Buffer[], secret: string) {
    if (bodies.length === 0) throw new Error('nothing to replay');
    const now = Math.floor(Date.now() / 1000);
    this.items = bodies.map((body) => ({ body, signature: sign(body.toString('utf8'), secret, now) }));
  }

  get size(): number {
    return this.items.length;
  }

  next(): SignedPayload {
    const item = this.items[this.cursor % this.items.length];
    this.cursor += 1;
    if (!item) throw new Error('replay pool is empty');
    return item;
  }
}
