import { createHash } from 'node:crypto';
import { Account } from './account.js';

const KEY_PATTERN = /^(sk|rk)_(test|live)_[0-9A-Za-z_]+$/;

export function isSecretKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** `sk_test_****abcd`, the way Stripe echoes a key it refuses. */
export function maskKey(key: string): string {
  const prefix = /^[a-z]+_(test|live)_/.exec(key)?.[0] ?? '';
  return `${prefix}****${key.slice(-4)}`;
}

/** One account per distinct key, created on first use: a live key and a test key never share objects. */
export class AccountRegistry {
  private readonly byKey = new Map<string, Account>();

  constructor(private readonly now: () => number) {}

  get(apiKey: string): Account {
    let account = this.byKey.get(apiKey);
    if (account === undefined) {
      if (!isSecretKey(apiKey)) throw new Error(`fake-stripe: "${maskKey(apiKey)}" is not a secret or restricted key (sk_/rk_ + test/live)`);
      const livemode = apiKey.includes('_live_');
      const id = `acct_${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
      account = new Account(apiKey, livemode, id, this.now);
      this.byKey.set(apiKey, account);
    }
    return account;
  }

  has(apiKey: string): boolean {
    return this.byKey.has(apiKey);
  }
}
