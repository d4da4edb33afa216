/**
 * Which anomalies go where and when (day d = the d-th day after the Monday the run starts, UTC).
 * Every detector kind is injected at least once; several twice (another currency, another shape).
 * Anomalies that need four weeks of history (volume drops) come after day 29.
 */
import { at } from '../generator/calendar.js';
import type { InjectContext } from './context.js';
import { currencyMismatch, customerFailureCluster, duplicateCharge, failureRateSpike } from './payments.js';
import { refundAboveCharge, refundStorm } from './refunds.js';
import { disputeSpike } from './disputes.js';
import { cancellationSpike, planDowngrade, seatDowngrade, silentLapseStale, silentLapseUnpaidRenewal } from './subscriptions.js';
import { fullDiscount, negativeInvoice } from './invoices.js';
import { newSubscriptionDrop, revenueDrop } from './volume.js';
import { webhookDelay, webhookSilence } from './delivery.js';

export type InjectionPlan = Record<string, (ctx: InjectContext) => void>;

/** The run needs at least this many days for every injection to play out. */
export const MIN_DAYS = 35;

export const PLAN: InjectionPlan = {
  globex(ctx) {
    silentLapseUnpaidRenewal(ctx, at(0, 6));
    silentLapseStale(ctx, at(1, 10));
    customerFailureCluster(ctx, at(5, 15.33));
    duplicateCharge(ctx, at(7, 11.05), 14_900);
    refundAboveCharge(ctx, at(8, 16));
    failureRateSpike(ctx, at(12, 13));
    cancellationSpike(ctx, at(15, 10));
    webhookDelay(ctx, at(18, 13.5));
    negativeInvoice(ctx, at(21, 9.5));
    fullDiscount(ctx, at(22, 2));
    planDowngrade(ctx, at(24, 11), 'business', 'starter');
    seatDowngrade(ctx, at(26, 14));
    newSubscriptionDrop(ctx, at(30, 8));
  },
  initech(ctx) {
    currencyMismatch(ctx, at(6, 12), 'eur', 'usd', 4_900);
    refundStorm(ctx, at(10, 2.08));
    refundAboveCharge(ctx, at(13, 16));
    disputeSpike(ctx, at(17, 8));
    webhookSilence(ctx, at(25, 9));
    cancellationSpike(ctx, at(27, 15), 16, 40);
  },
  kaiju(ctx) {
    duplicateCharge(ctx, at(4, 20.17), 3_980);
    refundAboveCharge(ctx, at(11, 14));
    failureRateSpike(ctx, at(19, 12), 70, 40);
    revenueDrop(ctx, at(31, 6));
  },
};
