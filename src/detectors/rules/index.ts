import type { Detector } from '../detector.js';
import { chargeFailureRate } from './charge-failure-rate.js';
import { customerFailureCluster } from './customer-failure-cluster.js';
import { refundExceedsCharge } from './refund-exceeds-charge.js';
import { refundSurge } from './refund-surge.js';
import { duplicateCharge } from './duplicate-charge.js';
import { disputeSpike } from './dispute-spike.js';
import { cancellationSpike } from './cancellation-spike.js';
import { newSubscriptionDrop } from './new-subscription-drop.js';
import { revenueDrop } from './revenue-drop.js';
import { webhookSilence } from './webhook-silence.js';
import { webhookDelay } from './webhook-delay.js';
import { silentLapse } from './silent-lapse.js';
import { negativeInvoice } from './negative-invoice.js';
import { currencyMismatch } from './currency-mismatch.js';
import { planDowngrade } from './plan-downgrade.js';

/** Every detector, in the documented order. */
export const DETECTORS: readonly Detector<any>[] = [
  chargeFailureRate,
  customerFailureCluster,
  refundExceedsCharge,
  refundSurge,
  duplicateCharge,
  disputeSpike,
  cancellationSpike,
  newSubscriptionDrop,
  revenueDrop,
  webhookSilence,
  webhookDelay,
  silentLapse,
  negativeInvoice,
  currencyMismatch,
  planDowngrade,
];
