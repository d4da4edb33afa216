import net from 'node:net';

/**
 * Which IP addresses an alert may be sent to. Tenants choose alert URLs, so every address a URL
 * resolves to is checked here before a connection is made (see `outbound-http.ts`).
 *
 * - Never: unspecified, multicast, broadcast/reserved, link-local (which holds the cloud metadata
 *   services) and the known metadata addresses, not even with `MW_ALLOW_PRIVATE_ALERT_TARGETS`: none
 *   of them is a place an alert receiver lives, and the metadata service is the prize of an SSRF.
 * - Private (refused unless the operator allows private targets): loopback, RFC 1918, carrier-grade
 *   NAT, unique-local and site-local IPv6, benchmarking and documentation ranges.
 * - IPv6 forms that embed an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4) are judged by
 *   the embedded address, so `::ffff:127.0.0.1` is loopback. Teredo is refused outright.
 */
export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

interface Range {
  bytes: number[];
  prefix: number;
  reason: string;
}

const v4 = (cidr: string, reason: string): Range => {
  const [address, prefix] = cidr.split('/') as [string, string];
  return { bytes: address.split('.').map(Number), prefix: Number(prefix), reason };
};
const v6 = (cidr: string, reason: string): Range => {
  const [address, prefix] = cidr.split('/') as [string, string];
  return { bytes: [...parseIpv6(address)!], prefix: Number(prefix), reason };
};

const V4_NEVER: Range[] = [
  v4('0.0.0.0/8', 'unspecified address'),
  v4('169.254.0.0/16', 'link-local address (cloud metadata)'),
  v4('100.100.100.200/32', 'cloud metadata address'),
  v4('192.0.0.192/32', 'cloud metadata address'),
  v4('224.0.0.0/4', 'multicast address'),
  v4('240.0.0.0/4', 'reserved address'),
];
const V4_PRIVATE: Range[] = [
  v4('127.0.0.0/8', 'loopback address'),
  v4('10.0.0.0/8', 'private address'),
  v4('172.16.0.0/12', 'private address'),
  v4('192.168.0.0/16', 'private address'),
  v4('100.64.0.0/10', 'carrier-grade NAT address'),
  v4('192.0.0.0/24', 'IETF protocol address'),
  v4('192.0.2.0/24', 'documentation address'),
  v4('198.18.0.0/15', 'benchmarking address'),
  v4('198.51.100.0/24', 'documentation address'),
  v4('203.0.113.0/24', 'documentation address'),
];
const V6_NEVER: Range[] = [
  v6('::/128', 'unspecified address'),
  v6('fe80::/10', 'link-local address'),
  v6('fd00:ec2::254/128', 'cloud metadata address'),
  v6('ff00::/8', 'multicast address'),
  v6('2001::/32', 'Teredo address'),
];
const V6_PRIVATE: Range[] = [
  v6('::1/128', 'loopback address'),
  v6('fc00::/7', 'unique-local address'),
  v6('fec0::/10', 'site-local address'),
  v6('64:ff9b:1::/48', 'local-use NAT64 address'),
  v6('100::/64', 'discard-only address'),
  v6('2001:db8::/32', 'documentation address'),
];

/** Ranges whose last 32 bits (or, for 6to4, bits 16–47) are an IPv4 address. */
const EMBEDDED_V4: { range: Range; offset: number }[] = [
  { range: v6('::ffff:0:0/96', ''), offset: 12 },
  { range: v6('::/96', ''), offset: 12 },
  { range: v6('64:ff9b::/96', ''), offset: 12 },
  { range: v6('2002::/16', ''), offset: 2 },
];

export function checkAddress(address: string, allowPrivate: boolean): AddressVerdict {
  const family = net.isIP(address);
  if (family === 4) return checkV4(address.split('.').map(Number), allowPrivate);
  if (family !== 6) return { allowed: false, reason: 'not an IP address' };
  if (address.includes('%')) return { allowed: false, reason: 'scoped IPv6 address' };
  const bytes = parseIpv6(address);
  if (!bytes) return { allowed: false, reason: 'not an IP address' };
  const never = V6_NEVER.find((r) => inRange(bytes, r));
  // `::/96` would also swallow `::` and `::1`; those are decided by their own entries first.
  if (never) return { allowed: false, reason: never.reason };
  const loopback = V6_PRIVATE.find((r) => r.prefix === 128 && inRange(bytes, r));
  if (loopback) return allowPrivate ? { allowed: true } : { allowed: false, reason: loopback.reason };
  for (const { range, offset } of EMBEDDED_V4) {
    if (inRange(bytes, range)) {
      const verdict = checkV4([...bytes.slice(offset, offset + 4)], allowPrivate);
      return verdict.allowed ? verdict : { allowed: false, reason: `${verdict.reason} (embedded in IPv6)` };
    }
  }
  const priv = V6_PRIVATE.find((r) => inRange(bytes, r));
  if (priv && !allowPrivate) return { allowed: false, reason: priv.reason };
  return { allowed: true };
}

function checkV4(bytes: number[], allowPrivate: boolean): AddressVerdict {
  const never = V4_NEVER.find((r) => inRange(bytes, r));
  if (never) return { allowed: false, reason: never.reason };
  if (bytes.every((b) => b === 255)) return { allowed: false, reason: 'broadcast address' };
  const priv = V4_PRIVATE.find((r) => inRange(bytes, r));
  if (priv && !allowPrivate) return { allowed: false, reason: priv.reason };
  return { allowed: true };
}

function inRange(bytes: ArrayLike<number>, range: Range): boolean {
  if (bytes.length !== range.bytes.length) return false;
  let bits = range.prefix;
  for (let i = 0; i < range.bytes.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** 16 bytes of an IPv6 address (with an optional dotted IPv4 tail), or undefined when malformed. */
export function parseIpv6(address: string): Uint8Array | undefined {
  let text = address;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const parts = dotted[2]!.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    tail.push(...parts);
    text = `${dotted[1]}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string) => (s === '' ? [] : s.split(':'));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  const bytes = new Uint8Array(16);
  for (const [i, g] of groups.entries()) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    const value = parseInt(g, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  }
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}
