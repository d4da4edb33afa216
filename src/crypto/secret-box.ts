import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Authenticated encryption (AES-256-GCM) for secrets at rest, plus a keyed hash for API keys and
 * webhook tokens. Both sub-keys are derived from MW_SECRET_KEY with HKDF so one root key can be
 * rotated as a unit and the two uses never share key material.
 *
 * Ciphertext format: `v1.<iv b64url>.<tag b64url>.<ciphertext b64url>`. The associated data binds a
 * ciphertext to its purpose (e.g. `tenant:ten_1:webhook_secrets`) so a value cannot be moved to
 * another row or column and still decrypt.
 */
export class SecretBox {
  private readonly encKey: Buffer;
  private readonly hashKey: Buffer;
  /** A public check value stored in the database to detect a wrong MW_SECRET_KEY at start. */
  readonly fingerprint: string;

  constructor(rootKey: Buffer) {
    if (rootKey.length !== 32) throw new Error('secret key must be 32 bytes');
    this.encKey = Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), 'meterwatch:enc:v1', 32));
    this.hashKey = Buffer.from(hkdfSync('sha256', rootKey, Buffer.alloc(0), 'meterwatch:hash:v1', 32));
    this.fingerprint = createHmac('sha256', this.hashKey).update('meterwatch:fingerprint').digest('base64url').slice(0, 22);
  }

  encrypt(plaintext: string, associatedData: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return `v1.${iv.toString('base64url')}.${tag.toString('base64url')}.${ct.toString('base64url')}`;
  }

  decrypt(box: string, associatedData: string): string {
    const parts = box.split('.');
    if (parts.length !== 4 || parts[0] !== 'v1') throw new Error('unsupported ciphertext format');
    const [, ivB64, tagB64, ctB64] = parts as [string, string, string, string];
    const decipher = createDecipheriv('aes-256-gcm', this.encKey, Buffer.from(ivB64, 'base64url'));
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tagB64, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ctB64, 'base64url')), decipher.final()]).toString('utf8');
  }

  /** Keyed hash (HMAC-SHA256): cheap enough per request, useless to whoever steals the table alone. */
  hash(value: string): string {
    return createHmac('sha256', this.hashKey).update(value, 'utf8').digest('base64url');
  }
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  // Compare against itself on length mismatch so timing does not reveal the length.
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}

export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}
