import { randomBytes } from 'node:crypto';
import type { Clock } from './clock.js';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

export interface IdGenerator {
  /** A time-ordered, globally unique id with a type prefix, e.g. `ten_01j…`. */
  next(prefix: string): string;
}

/**
 * ULID-style ids: 48 bits of milliseconds then 80 random bits, monotonic within a millisecond.
 * Time order keeps b-tree inserts local, which matters for insert throughput on both stores.
 */
export function createIdGenerator(clock: Clock): IdGenerator {
  let lastMs = -1;
  let lastRandom = new Uint8Array(10);
  return {
    next(prefix: string): string {
      const ms = clock.now();
      if (ms <= lastMs) {
        incrementBytes(lastRandom);
      } else {
        lastMs = ms;
        lastRandom = new Uint8Array(randomBytes(10));
      }
      return `${prefix}_${encodeTime(Math.max(ms, lastMs))}${encodeRandom(lastRandom)}`;
    },
  };
}

function encodeTime(ms: number): string {
  let out = '';
  let value = ms;
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[value % 32] + out;
    value = Math.floor(value / 32);
  }
  return out;
}

function encodeRandom(bytes: Uint8Array): string {
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  let out = '';
  for (let i = 0; i < 16; i++) {
    out = ALPHABET[Number(bits & 31n)] + out;
    bits >>= 5n;
  }
  return out;
}

function incrementBytes(bytes: Uint8Array): void {
  for (let i = bytes.length - 1; i >= 0; i--) {
    const v = (bytes[i] ?? 0) + 1;
    bytes[i] = v & 0xff;
    if (v <= 0xff) return;
  }
}
