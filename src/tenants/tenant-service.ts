import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import { randomToken, type SecretBox } from '../crypto/secret-box.js';
import type { TenantPatch, TenantRecord, Store } from '../store/store.js';
import type { ApiKeyService, CreatedApiKey } from './api-key-service.js';
import { invalidTenantInput, tenantNameTaken, tenantNotFound } from './tenant-errors.js';
import { AppError } from '../shared/app-error.js';
import {
  MAX_ACTIVE_WEBHOOK_SECRETS,
  STRIPE_KEY_PATTERN,
  STRIPE_TEST_KEY_PATTERN,
  TENANT_NAME_PATTERN,
  WEBHOOK_SECRET_PATTERN,
} from './secret-formats.js';

export const DEFAULT_TENANT_ID = 'default';

export interface TenantView {
  id: string;
  name: string;
  webhookUrl: string;
  webhookSecretsActive: number;
  stripeApiKey: { configured: boolean; mode: 'live' | 'test' | null };
  stripeTestApiKey: { configured: boolean };
  createdAt: string;
}

export interface CreatedTenant {
  id: string;
  name: string;
  webhookToken: string;
  webhookUrl: string;
  apiKey: string;
  apiKeyId: string;
}

export interface StripeSecretsInput {
  /** Becomes the primary secret; the previous primary stays active for the rotation overlap. */
  webhookSecret?: string;
  /** Replaces the whole active set (1 or 2 secrets); an empty list clears it. */
  webhookSecrets?: string[];
  apiKey?: string | null;
  testApiKey?: string | null;
}

export interface WebhookTarget {
  tenantId: string;
  secrets: string[];
}

const TARGET_CACHE_TTL_MS = 5_000;

/**
 * Tenants and their credentials. Every secret is encrypted with associated data naming its tenant
 * and column, so a ciphertext copied to another row does not decrypt.
 */
export class TenantService {
  private readonly targetCache = new Map<string, { target: WebhookTarget | undefined; expires: number }>();

  constructor(
    private readonly store: Store,
    private readonly box: SecretBox,
    private readonly ids: IdGenerator,
    private readonly clock: Clock,
    private readonly apiKeys: ApiKeyService,
    private readonly options: { publicUrl: string; defaultWebhookSecrets: string[] },
  ) {}

  async create(input: { name: string; stripeWebhookSecret?: string; stripeApiKey?: string; id?: string }): Promise<CreatedTenant> {
    const name = input.name.trim();
    const problems: string[] = [];
    if (!TENANT_NAME_PATTERN.test(name)) problems.push('name must be 1 to 64 letters, digits, spaces, dots, dashes or underscores');
    if (input.stripeWebhookSecret !== undefined && !WEBHOOK_SECRET_PATTERN.test(input.stripeWebhookSecret))
      problems.push('stripeWebhookSecret must be a Stripe signing secret (whsec_…)');
    if (input.stripeApiKey !== undefined && !STRIPE_KEY_PATTERN.test(input.stripeApiKey))
      problems.push('stripeApiKey must be a Stripe secret or restricted key (sk_… or rk_…)');
    if (problems.length > 0) throw invalidTenantInput(problems);

    const id = input.id ?? this.ids.next('ten');
    const now = this.clock.now();
    const token = randomToken(24);
    const record: TenantRecord = {
      id,
      name,
      webhookTokenHash: this.box.hash(token),
      webhookTokenEnc: this.box.encrypt(token, ad(id, 'webhook_token')),
      webhookSecretsEnc: input.stripeWebhookSecret ? this.encryptSecrets(id, [input.stripeWebhookSecret]) : null,
      stripeApiKeyEnc: input.stripeApiKey ? this.box.encrypt(input.stripeApiKey, ad(id, 'stripe_api_key')) : null,
      stripeTestApiKeyEnc: null,
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.store.insertTenant(record))) throw tenantNameTaken(name);
    const key: CreatedApiKey = await this.apiKeys.create(id, { name: 'initial key', scopes: ['ingest', 'read', 'write'] });
    return { id, name, webhookToken: token, webhookUrl: this.webhookUrl(token), apiKey: key.key, apiKeyId: key.id };
  }

  async get(id: string): Promise<TenantView> {
    const tenant = await this.store.getTenant(id);
    if (!tenant) throw tenantNotFound();
    return this.toView(tenant);
  }

  async exists(id: string): Promise<boolean> {
    return (await this.store.getTenant(id)) !== undefined;
  }

  async list(): Promise<TenantView[]> {
    return (await this.store.listTenants()).map((t) => this.toView(t));
  }

  /** Resolve a tenant by id or by name (the CLI accepts either). */
  async resolveId(idOrName: string): Promise<string> {
    const tenant = (await this.store.getTenant(idOrName)) ?? (await this.store.getTenantByName(idOrName));
    if (!tenant) {
      throw new AppError(
        'not_found',
        idOrName === DEFAULT_TENANT_ID
          ? 'Tenant "default" not found: the first `meterwatch serve` creates it'
          : `Tenant "${idOrName}" not found`,
      );
    }
    return tenant.id;
  }

  async rotateWebhookToken(id: string): Promise<{ webhookToken: string; webhookUrl: string }> {
    const token = randomToken(24);
    const updated = await this.store.updateTenant(
      id,
      { webhookTokenHash: this.box.hash(token), webhookTokenEnc: this.box.encrypt(token, ad(id, 'webhook_token')) },
      this.clock.now(),
    );
    if (!updated) throw tenantNotFound();
    this.targetCache.clear();
    return { webhookToken: token, webhookUrl: this.webhookUrl(token) };
  }

  async setStripeSecrets(id: string, input: StripeSecretsInput): Promise<TenantView> {
    const problems: string[] = [];
    if (input.webhookSecret !== undefined && input.webhookSecrets !== undefined)
      problems.push('give either webhookSecret (rotate in) or webhookSecrets (replace the set), not both');
    if (input.webhookSecret !== undefined && !WEBHOOK_SECRET_PATTERN.test(input.webhookSecret))
      problems.push('webhookSecret must be a Stripe signing secret (whsec_…)');
    if (input.webhookSecrets !== undefined) {
      if (input.webhookSecrets.length > MAX_ACTIVE_WEBHOOK_SECRETS)
        problems.push(`at most ${MAX_ACTIVE_WEBHOOK_SECRETS} webhook secrets can be active`);
      if (input.webhookSecrets.some((s) => !WEBHOOK_SECRET_PATTERN.test(s)))
        problems.push('every webhookSecrets entry must be a Stripe signing secret (whsec_…)');
    }
    if (input.apiKey != null && !STRIPE_KEY_PATTERN.test(input.apiKey))
      problems.push('apiKey must be a Stripe secret or restricted key (sk_… or rk_…)');
    if (input.testApiKey != null && !STRIPE_TEST_KEY_PATTERN.test(input.testApiKey))
      problems.push('testApiKey must be a test-mode key (sk_test_… or rk_test_…)');
    if (problems.length > 0) throw invalidTenantInput(problems);

    const tenant = await this.store.getTenant(id);
    if (!tenant) throw tenantNotFound();
    const patch: TenantPatch = {};
    if (input.webhookSecret !== undefined) {
      const current = this.decryptSecrets(tenant);
      const next = [input.webhookSecret, ...current.filter((s) => s !== input.webhookSecret)].slice(0, MAX_ACTIVE_WEBHOOK_SECRETS);
      patch.webhookSecretsEnc = this.encryptSecrets(id, next);
    }
    if (input.webhookSecrets !== undefined) {
      patch.webhookSecretsEnc = input.webhookSecrets.length > 0 ? this.encryptSecrets(id, [...new Set(input.webhookSecrets)]) : null;
    }
    if (input.apiKey !== undefined)
      patch.stripeApiKeyEnc = input.apiKey === null ? null : this.box.encrypt(input.apiKey, ad(id, 'stripe_api_key'));
    if (input.testApiKey !== undefined)
      patch.stripeTestApiKeyEnc = input.testApiKey === null ? null : this.box.encrypt(input.testApiKey, ad(id, 'stripe_test_api_key'));
    const updated = await this.store.updateTenant(id, patch, this.clock.now());
    if (!updated) throw tenantNotFound();
    this.targetCache.clear();
    return this.toView(updated);
  }

  /** The tenant behind a per-tenant webhook URL, with its active secrets; undefined when unknown. */
  async webhookTargetByToken(token: string): Promise<WebhookTarget | undefined> {
    if (token.length < 16 || token.length > 128) return undefined;
    const hash = this.box.hash(token);
    return this.cachedTarget(`t:${hash}`, async () => {
      const tenant = await this.store.getTenantByWebhookTokenHash(hash);
      return tenant && { tenantId: tenant.id, secrets: this.decryptSecrets(tenant) };
    });
  }

  /** The default tenant's target: secrets from STRIPE_WEBHOOK_SECRET first, then any stored ones. */
  async defaultWebhookTarget(): Promise<WebhookTarget | undefined> {
    return this.cachedTarget('default', async () => {
      const tenant = await this.store.getTenant(DEFAULT_TENANT_ID);
      if (!tenant) return undefined;
      const secrets = [...new Set([...this.options.defaultWebhookSecrets, ...this.decryptSecrets(tenant)])];
      return { tenantId: tenant.id, secrets };
    });
  }

  private async cachedTarget(key: string, load: () => Promise<WebhookTarget | undefined>): Promise<WebhookTarget | undefined> {
    const now = this.clock.now();
    const hit = this.targetCache.get(key);
    if (hit && hit.expires > now) return hit.target;
    const target = await load();
    if (this.targetCache.size > 10_000) this.targetCache.clear();
    this.targetCache.set(key, { target, expires: now + TARGET_CACHE_TTL_MS });
    return target;
  }

  webhookUrl(token: string): string {
    return `${this.options.publicUrl}/webhook/${token}`;
  }

  private toView(t: TenantRecord): TenantView {
    const apiKey = t.stripeApiKeyEnc ? this.box.decrypt(t.stripeApiKeyEnc, ad(t.id, 'stripe_api_key')) : null;
    return {
      id: t.id,
      name: t.name,
      webhookUrl: this.webhookUrl(this.box.decrypt(t.webhookTokenEnc, ad(t.id, 'webhook_token'))),
      webhookSecretsActive: this.decryptSecrets(t).length,
      stripeApiKey: { configured: apiKey !== null, mode: apiKey === null ? null : apiKey.includes('_live_') ? 'live' : 'test' },
      stripeTestApiKey: { configured: t.stripeTestApiKeyEnc !== null },
      createdAt: new Date(t.createdAt).toISOString(),
    };
  }

  private encryptSecrets(tenantId: string, secrets: string[]): string {
    return this.box.encrypt(JSON.stringify(secrets), ad(tenantId, 'webhook_secrets'));
  }

  private decryptSecrets(t: TenantRecord): string[] {
    if (!t.webhookSecretsEnc) return [];
    return JSON.parse(this.box.decrypt(t.webhookSecretsEnc, ad(t.id, 'webhook_secrets'))) as string[];
  }

  /** Decrypted Stripe API key for server-side calls (backfill, sync); never returned by the API. */
  async stripeApiKey(tenantId: string, mode: 'live' | 'test' = 'live'): Promise<string | undefined> {
    const t = await this.store.getTenant(tenantId);
    if (!t) throw tenantNotFound();
    if (mode === 'test') return t.stripeTestApiKeyEnc ? this.box.decrypt(t.stripeTestApiKeyEnc, ad(t.id, 'stripe_test_api_key')) : undefined;
    return t.stripeApiKeyEnc ? this.box.decrypt(t.stripeApiKeyEnc, ad(t.id, 'stripe_api_key')) : undefined;
  }
}

function ad(tenantId: string, column: string): string {
  return `tenant:${tenantId}:${column}`;
}
