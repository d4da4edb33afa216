import type { Store } from '../store/store.js';
import type { MappingDirectory } from './mapping-directory.js';

/** The Stripe-sync mappings (src/sync) as reconciliation sees them. */
export function syncMappingDirectory(_store: Store): MappingDirectory {
  return { list: async () => [] };
}
