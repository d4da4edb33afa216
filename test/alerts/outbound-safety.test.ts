import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkAddress, parseIpv6 } from '../../src/alerts/address-policy.js';
import { OutboundError, postOutbound, type Resolver } from '../../src/alerts/outbound-http.js';
import { startReceiver, type Receiver } from '../support/alert-receivers.js';

/** SSRF rules of src/alerts/README.md, checked on the real HTTP client against a real local receiver. */
describe('alert targets: address policy', () => {
  it('refuses loopback, private, link-local, metadata and unique-local addresses', () => {
    for (const address of [
      '127.0.0.1', '127.9.9.9', '10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.1.1', '100.64.0.1',
      '169.254.169.254', '169.254.170.2', '100.100.100.200', '0.0.0.0', '255.255.255.255', '224.0.0.1',
      '::1', '::', 'fe80::1', 'fc00::1', 'fd12:3456::1', 'fd00:ec2::254', 'ff02::1',
      '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:10.0.0.1', '::ffff:169.254.169.254', '0:0:0:0:0:ffff:a9fe:a9fe',
      '64:ff9b::7f00:1', '2002:7f00:1::1', '2001::1', '::127.0.0.1',
    ]) {
      expect(checkAddress(address, false).allowed, address).toBe(false);
    }
  });

  it('allows public addresses, and private ones only when the operator allows them', () => {
    for (const address of ['93.184.216.34', '1.1.1.1', '172.32.0.1', '2606:4700::1111', '::ffff:93.184.216.34']) {
      expect(checkAddress(address, false), address).toEqual({ allowed: true });
    }
    for (const address of ['127.0.0.1', '10.1.2.3', '192.168.0.10', '::1', 'fd00::5', '::ffff:127.0.0.1']) {
      expect(checkAddress(address, true), address).toEqual({ allowed: true });
    }
    // Never, even with private targets allowed: metadata, link-local, unspecified, multicast.
    for (const address of ['169.254.169.254', '100.100.100.200', 'fd00:ec2::254', 'fe80::1', '0.0.0.0', '::', '224.0.0.1', '::ffff:169.254.169.254']) {
      expect(checkAddress(address, true).allowed, address).toBe(false);
    }
  });

  it('parses IPv6 forms, including embedded IPv4 and compressed zeros', () => {
    expect([...parseIpv6('::ffff:127.0.0.1')!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
    expect([...parseIpv6('2001:db8::1')!]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6('1::2::3')).toBeUndefined();
    expect(parseIpv6('12345::')).toBeUndefined();
  });
});

describe('alert targets: outbound HTTP', () => {
  let receiver: Receiver;
  let redirector: http.Server;
  let redirectorUrl: string;
  let big: http.Server;
  let bigUrl: string;

  beforeAll(async () => {
    receiver = await startReceiver();
    redirector = http.createServer((_req, res) => {
      res.writeHead(302, { location: `${receiver.url}/stolen` });
      res.end();
    });
    await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
    redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
    big = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      // Far more than the cap, streamed: the client must stop reading, not buffer it all.
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => {
        while (sent < 50 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    bigUrl = `http://127.0.0.1:${(big.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await receiver?.close();
    redirector?.closeAllConnections();
    big?.closeAllConnections();
    await new Promise((r) => redirector?.close(r));
    await new Promise((r) => big?.close(r));
  });

  const strict = { allowPrivate: false, timeoutMs: 2_000 };
  const refusal = async (url: string, options: Partial<Parameters<typeof postOutbound>[3]> = {}) => {
    try {
      await postOutbound(url, '{}', {}, { ...strict, ...options });
      return 'sent';
    } catch (error) {
      expect(error).toBeInstanceOf(OutboundError);
      return (error as OutboundError).reason;
    }
  };

  it('refuses every internal target before connecting, however the address is written', async () => {
    const port = receiver.port;
    const before = receiver.requests.length;
    for (const url of [
      `http://127.0.0.1:${port}/hook`,
      `http://[::1]:${port}/hook`,
      `http://10.1.2.3:${port}/hook`,
      'http://169.254.169.254/latest/meta-data/',
      `http://2130706433:${port}/`, // 127.0.0.1 as one decimal number
      `http://0177.0.0.1:${port}/`, // octal
      `http://0x7f.0.0.1:${port}/`, // hex
      `http://0x7f000001:${port}/`,
      `http://127.1:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`, // IPv4-mapped IPv6
      `http://[::ffff:a9fe:a9fe]/`, // 169.254.169.254, mapped
      `http://localhost:${port}/`, // a DNS name that resolves to loopback
      `http://0.0.0.0:${port}/`,
    ]) {
      expect(await refusal(url), url).toBe('refused');
    }
    expect(receiver.requests.length).toBe(before);
  });

  it('refuses other schemes and malformed URLs', async () => {
    for (const url of ['ftp://example.com/x', 'file:///etc/passwd', 'gopher://127.0.0.1/', 'not a url', 'http://']) {
      expect(await refusal(url), url).toBe('invalid_url');
    }
  });

  it('refuses a name whose DNS answer mixes public and private addresses (rebinding)', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    expect(await refusal(`http://rebind.example:${receiver.port}/`, { resolve })).toBe('refused');
  });

  it('connects to the address it checked, keeping the name for the Host header', async () => {
    let lookups = 0;
    const resolve: Resolver = async (host) => {
      lookups += 1;
      expect(host).toBe('receiver.test');
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const res = await postOutbound(`http://receiver.test:${receiver.port}/pinned?x=1`, '{"a":1}', { 'x-extra': 'y' }, { allowPrivate: true, timeoutMs: 2_000, resolve });
    expect(res.status).toBe(200);
    expect(lookups).toBe(1);
    const last = receiver.requests[receiver.requests.length - 1]!;
    expect(last).toMatchObject({ method: 'POST', path: '/pinned?x=1', body: '{"a":1}' });
    expect(last.headers.host).toBe(`receiver.test:${receiver.port}`);
    expect(last.headers['x-extra']).toBe('y');
    expect(last.headers['content-type']).toBe('application/json');
  });

  it('does not follow redirects, even to an allowed address', async () => {
    const before = receiver.requests.length;
    const res = await postOutbound(`${redirectorUrl}/hook`, '{}', {}, { allowPrivate: true, timeoutMs: 2_000 });
    expect(res.status).toBe(302);
    expect(receiver.requests.length).toBe(before);
  });

  it('caps the response body it reads', async () => {
    const res = await postOutbound(bigUrl, '{}', {}, { allowPrivate: true, timeoutMs: 5_000, maxResponseBytes: 1000 });
    expect(res.status).toBe(200);
    expect(res.body.length).toBe(1000);
  });

  it('gives up at the deadline when the endpoint never answers', async () => {
    receiver.queue({ status: 200, hang: true });
    const started = Date.now();
    expect(await refusal(`${receiver.url}/slow`, { allowPrivate: true, timeoutMs: 300 })).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('reports a refused connection as a network failure', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    expect(await refusal(`http://127.0.0.1:${port}/`, { allowPrivate: true })).toBe('network');
  });
});
