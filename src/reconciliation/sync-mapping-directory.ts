import type { Store } from '../store/store.js';
import type { MappingDirectory } from './mapping-directory.js';

/** The Stripe-sync mappings (src/sync) as reconciliation sees them: enabled ones, live meter. */
export function syncMappingDirectory(store: Store): MappingDirectory {
  return {
    async list(tenantId) {
      const mappings = await store.sync.listEnabledMappings(tenantId);
      return mappings.map((m) => ({ id: m.id, tenantId: m.tenantId, metric: m.metric, aggregation: m.aggregation, meterEventName: m.meterEventName, meterId: m.meterId }));
    },
    realign: (key, acceptedMicro, now) => store.sync.realignAccepted(key, acceptedMicro, now),
  };
}
