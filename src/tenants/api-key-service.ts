import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import { AppError, notFound } from '../shared/app-error.js';
import { constantTimeEqual, randomToken, type SecretBox } from '../crypto/secret-box.js';
import { ALL_SCOPES, type ApiKeyRecord, type Scope, type Store } from '../store/store.js';

export interface ApiKeyView {
  id: string;
  tenantId: string;
  name: string;
  prefix: string;
  scopes: Scope[];
  createdAt: string;
  revokedAt: string | null;
}

export interface CreatedApiKey extends ApiKeyView {
  /** The full key: returned once, never stored in clear. */
  key: string;
}

const CACHE_TTL_MS = 5_000;
const CACHE_MAX = 10_000;

/**
 * API keys are `mw_<prefix>_<secret>`. Only an HMAC of the whole key is stored, so a lookup is one
 * indexed read; a short cache keeps that read off the hot path. A revocation is immediate on the
 * replica that made it and reaches other replicas within the cache TTL.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, { record: ApiKeyRecord | undefined; expires: number }>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
  ) {}

  async create(tenantId: string, input: { name: string; scopes: Scope[] }): Promise<CreatedApiKey> {
    const problems: string[] = [];
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) problems.push('name must be 1 to 100 characters');
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) problems.push(`scopes must name at least one of ${ALL_SCOPES.join(', ')}`);
    for (const s of scopes) if (!ALL_SCOPES.includes(s)) problems.push(`unknown scope "${String(s)}"`);
    if (problems.length > 0) throw new AppError('validation_failed', problems.join('; '), { problems });
    if (!(await this.store.getTenant(tenantId))) throw notFound('Tenant');

    const prefix = randomToken(6).replace(/[-_]/g, 'x').slice(0, 8);
    const key = `mw_${prefix}_${randomToken(32)}`;
    const record: ApiKeyRecord = {
      id: this.ids.next('key'),
      tenantId,
      name,
      prefix: `mw_${prefix}`,
      keyHash: this.box.hash(key),
      scopes: ALL_SCOPES.filter((s) => scopes.includes(s)),
      createdAt: this.clock.now(),
      revokedAt: null,
    };
    await this.store.insertApiKey(record);
    return { ...toView(record), key };
  }

  async list(tenantId: string): Promise<ApiKeyView[]> {
    return (await this.store.listApiKeys(tenantId)).map(toView);
  }

  async revoke(tenantId: string, id: string): Promise<void> {
    const revoked = await this.store.revokeApiKey(tenantId, id, this.clock.now());
    if (!revoked) throw notFound('Live API key');
    for (const [hash, entry] of this.cache) if (entry.record?.id === id) this.cache.delete(hash);
  }

  /** The live key record for a presented key, or undefined. */
  async authenticate(presented: string): Promise<ApiKeyRecord | undefined> {
    if (!presented.startsWith('mw_') || presented.length > 200) return undefined;
    const hash = this.box.hash(presented);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    let record: ApiKeyRecord | undefined;
    if (cached && cached.expires > now) {
      record = cached.record;
    } else {
      record = await this.store.getApiKeyByHash(hash);
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(hash, { record, expires: now + CACHE_TTL_MS });
    }
    // The lookup is by hash; the constant-time compare guards against a non-exact index match.
    if (!record || record.revokedAt !== null || !constantTimeEqual(record.keyHash, hash)) return undefined;
    return record;
  }
}

export function toView(r: ApiKeyRecord): ApiKeyView {
  return {
    id: r.id,
    tenantId: r.tenantId,
    name: r.name,
    prefix: r.prefix,
    scopes: r.scopes,
    createdAt: new Date(r.createdAt).toISOString(),
    revokedAt: r.revokedAt === null ? null : new Date(r.revokedAt).toISOString(),
  };
}
