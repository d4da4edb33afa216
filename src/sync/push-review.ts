import type { Clock } from '../shared/clock.js';
import type { Store } from '../store/store.js';
import { notInReview, pushItemNotFound } from './sync-errors.js';

/**
 * The way out of `needs_review`: an event whose outcome Stripe never told us, past the 24 h in which
 * a resend would be deduplicated. An operator checks the meter's event summary (or the event by its
 * identifier) in Stripe and says whether it was accepted; the item then continues from that truth.
 */
export class PushReview {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
  ) {}

  async resolve(tenantId: string, id: string, input: { pendingAccepted: boolean }): Promise<{ id: string; status: 'due'; settled: 'accepted' | 'dropped' | 'nothing_pending' }> {
    const state = await this.store.sync.getState(tenantId, id);
    if (!state) throw pushItemNotFound();
    if (state.status !== 'needs_review') throw notInReview(state.status);
    const now = this.clock.now();
    let settled: 'accepted' | 'dropped' | 'nothing_pending' = 'nothing_pending';
    if (state.pending) {
      const { kind, identifier } = state.pending;
      if (input.pendingAccepted) {
        await this.store.sync.settleOp(tenantId, id, kind, identifier, now);
        settled = 'accepted';
      } else {
        await this.store.sync.dropPending(tenantId, id, kind, identifier, now);
        settled = 'dropped';
      }
    }
    if (!(await this.store.sync.reopenState(tenantId, id, now))) throw notInReview('no longer in review');
    return { id, status: 'due', settled };
  }
}
