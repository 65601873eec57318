// The one outbound-HTTP module: which destinations are public, and that the address checked is the address
// connected to (DNS rebinding), on every redirect hop, within bounded size and time. Local servers on
// 127.0.0.1 and 127.0.0.2 stand in for private hosts; each records the connections it receives.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { nonPublicAddress, nonPublicName } from './address.js';
import { DEVELOPMENT_ALLOW, Outbound, OutboundError, parseAllowList, type Resolve } from './outbound.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url));
const tls = { key: fixture('test-key.pem'), cert: fixture('test-cert.pem') };

describe('address classification', () => {
  test.each([
    ['0.0.0.0', /this network/],
    ['0.1.2.3', /this network/],
    ['10.0.0.1', /private/],
    ['10.255.255.255', /private/],
    ['100.64.0.1', /carrier-grade/],
    ['100.127.255.254', /carrier-grade/],
    ['127.0.0.1', /loopback/],
    ['127.255.0.9', /loopback/],
    ['169.254.169.254', /link-local/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.0.0.170', /IETF/],
    ['192.0.2.10', /documentation/],
    ['192.88.99.1', /6to4 relay/],
    ['192.168.1.1', /private/],
    ['198.18.0.1', /benchmarking/],
    ['198.19.255.255', /benchmarking/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['224.0.0.251', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.255', /reserved/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['0:0:0:0:0:0:0:1', /loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped/],
    ['::ffff:7f00:1', /IPv4-mapped/],
    ['::ffff:169.254.169.254', /IPv4-mapped/],
    ['::ffff:8.8.8.8', /IPv4-mapped/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['::7f00:1', /IPv4-compatible/],
    ['::ffff:0:a00:1', /IPv4-translated/],
    ['64:ff9b::127.0.0.1', /NAT64 address of a loopback/],
    ['64:ff9b::a00:1', /NAT64 address of a private/],
    ['64:ff9b::a9fe:a9fe', /NAT64 address of a link-local/],
    ['64:ff9b:1::a00:1', /local-use NAT64/],
    ['100::1', /discard/],
    ['fc00::1', /unique-local/],
    ['fd00:ec2::254', /unique-local/],
    ['fe80::1', /link-local/],
    ['febf::1', /link-local/],
    ['fec0::1', /site-local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /documentation/],
    ['2001::1', /IETF/],
    ['2001:2::1', /IETF/],
    ['3fff::1', /documentation/],
    ['2002:7f00:1::1', /6to4 address of a loopback/],
    ['2002:a9fe:a9fe::1', /6to4 address of a link-local/],
    ['4000::1', /reserved/],
    ['not-an-ip', /not an IP/],
  ])('%s is not public', (address, reason) => {
    expect(nonPublicAddress(address)).toMatch(reason);
  });

  test.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '100.63.255.255',
    '100.128.0.1',
    '172.15.255.255',
    '172.32.0.1',
    '192.167.1.1',
    '198.20.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
    '64:ff9b::808:808',
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '2001:200::1',
  ])('%s is public', (address) => expect(nonPublicAddress(address)).toBeNull());

  test.each([
    'localhost',
    'LOCALHOST.',
    'a.localhost',
    'metadata',
    'metadata.google.internal',
    'metadata.google.internal.',
    'metadata.goog',
    'instance-data',
    'instance-data.ec2.internal',
    'kubernetes.default.svc',
    'db.internal',
    'printer.local',
    'router.lan',
    'x.home.arpa',
    'redis',
    'redis.',
    '',
  ])('the host name %j is internal', (name) => expect(nonPublicName(name)).not.toBeNull());

  test.each(['example.com', 'api.openai.com', 'example.com.', 'llm.example.com'])('the host name %s may be public', (name) =>
    expect(nonPublicName(name)).toBeNull(),
  );
});

describe('URL checks (no DNS): what a tenant may save', () => {
  const prod = new Outbound({ env: 'production', allow: parseAllowList('') });
  const refused = (o: Outbound, url: string) => {
    try {
      o.check(url);
    } catch (err) {
      if (err instanceof OutboundError) return err;
      throw err;
    }
    throw new Error(`accepted ${url}`);
  };

  test.each([
    'https://127.0.0.1/jwks',
    'https://127.0.0.1./jwks',
    'https://127.0.0.1../jwks',
    'https://2130706433/', // 127.0.0.1 in decimal
    'https://017700000001/', // octal
    'https://0x7f000001/', // hex
    'https://0x7f.1/',
    'https://0177.0.0.1/',
    'https://127.1/',
    'https://%31%32%37.0.0.1/', // percent-encoded
    'https://１２７.０.０.１/', // full-width digits
    'https://0/',
    'https://169.254.169.254/latest/meta-data/',
    'https://169.254.169.254./latest/meta-data/',
    'https://10.0.0.1/',
    'https://172.16.5.4/',
    'https://192.168.0.1/',
    'https://100.100.100.200/', // a cloud metadata service in CGNAT space
    'https://198.18.0.1/',
    'https://[::1]/',
    'https://[::]/',
    'https://[::ffff:127.0.0.1]/',
    'https://[::ffff:7f00:1]/',
    'https://[0:0:0:0:0:ffff:7f00:1]/',
    'https://[::ffff:a9fe:a9fe]/',
    'https://[::127.0.0.1]/',
    'https://[64:ff9b::10.0.0.1]/',
    'https://[fd00:ec2::254]/',
    'https://[fe80::1]/',
    'https://[fc00::1]/',
    'https://[2002:7f00:1::1]/',
    'https://localhost/',
    'https://localhost./',
    'https://LocalHost../',
    'https://api.localhost/',
    'https://metadata/computeMetadata/v1/',
    'https://metadata.google.internal/computeMetadata/v1/',
    'https://metadata.google.internal./computeMetadata/v1/',
    'https://instance-data/latest/',
    'https://db.internal/',
    'https://nas.local/',
  ])('production refuses %s as not public', (url) => {
    expect(refused(prod, url)).toMatchObject({ code: 'not_public', message: expect.stringMatching(/public host/) });
  });

  test.each([
    'https://example.com/.well-known/jwks.json',
    'https://8.8.8.8/',
    'https://[2606:4700:4700::1111]/',
    'https://[64:ff9b::808:808]/',
    'https://example.com./x',
  ])('production accepts %s', (url) => {
    expect(prod.check(url).href).toBe(new URL(url).href);
  });

  test('production refuses http; every environment refuses other schemes and credentials', () => {
    expect(refused(prod, 'http://example.com/')).toMatchObject({ code: 'scheme', message: 'must use https' });
    const dev = new Outbound({ env: 'development', allow: parseAllowList(DEVELOPMENT_ALLOW) });
    expect(dev.check('http://127.0.0.1:8080/x').href).toBe('http://127.0.0.1:8080/x');
    for (const o of [prod, dev]) {
      for (const url of ['file:///etc/passwd', 'ftp://example.com/', 'gopher://example.com/', 'data:text/plain,x'])
        expect(refused(o, url).code).toBe('scheme');
      for (const url of ['https://user:pass@example.com/', 'https://token@example.com/', 'https://:x@example.com/'])
        expect(refused(o, url).code).toBe('credentials');
      expect(refused(o, 'example.com/jwks').code).toBe('invalid_url');
    }
    expect(refused(dev, 'http://10.0.0.1/').code).toBe('not_public');
  });

  test('PARLEY_OUTBOUND_ALLOW lets listed CIDRs and host names through, nothing else', () => {
    const allow = parseAllowList(' 10.20.0.0/16, fd12:3456::/32 , llm.corp.internal., 192.168.1.5 ');
    expect(allow.hosts).toEqual(['llm.corp.internal']);
    expect(allow.cidrs.map((c) => c.text)).toEqual(['10.20.0.0/16', 'fd12:3456::/32', '192.168.1.5/32']);
    const o = new Outbound({ env: 'production', allow });
    for (const url of ['https://10.20.3.4/', 'https://[fd12:3456::1]/', 'https://llm.corp.internal/v1', 'https://192.168.1.5/'])
      expect(o.check(url).href).toBe(url);
    for (const url of [
      'https://10.21.0.1/',
      'https://[fd12:3457::1]/',
      'https://other.corp.internal/',
      'https://192.168.1.6/',
      'https://[::ffff:10.20.3.4]/',
      'https://169.254.169.254/',
    ]) {
      expect(refused(o, url).code).toBe('not_public');
    }
    expect(() => parseAllowList('10.0.0.0/33')).toThrow(/10.0.0.0\/33/);
    expect(() => parseAllowList('http://x.example')).toThrow(/neither/);
  });

  test('config reads PARLEY_OUTBOUND_ALLOW: loopback by default in development, nothing in production', () => {
    const base = { PARLEY_MASTER_KEY: randomBytes(32).toString('base64'), PARLEY_SIGNING_KEY: randomBytes(32).toString('base64') };
    const production = {
      ...base,
      PARLEY_ENV: 'production',
      PARLEY_PUBLIC_URL: 'https://api.example.com',
      DATABASE_URL: 'postgres://db.invalid/parley',
    };
    expect(loadConfig(production).outboundAllow).toEqual({ cidrs: [], hosts: [] });
    expect(loadConfig({ ...production, PARLEY_OUTBOUND_ALLOW: '10.0.0.0/8,llm.corp.internal' }).outboundAllow).toMatchObject({
      cidrs: [{ text: '10.0.0.0/8' }],
      hosts: ['llm.corp.internal'],
    });
    expect(() => loadConfig({ ...production, PARLEY_OUTBOUND_ALLOW: '10.0.0.0/99' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...production, PARLEY_OUTBOUND_ALLOW: '10.0.0.0/99' })).toThrow(/PARLEY_OUTBOUND_ALLOW/);
    const dev = loadConfig({ ...base, PARLEY_ENV: 'development' }).outboundAllow;
    expect(dev.hosts).toEqual(['localhost']);
    expect(dev.cidrs.map((c) => c.text)).toEqual(['127.0.0.0/8', '::1/128']);
    expect(loadConfig({ ...base, PARLEY_ENV: 'development', PARLEY_OUTBOUND_ALLOW: '' }).outboundAllow).toEqual({ cidrs: [], hosts: [] });
  });
});

// ---- real connections -------------------------------------------------------------------------------

interface Recorder {
  server: Server;
  port: number;
  connections: number;
  requests: string[];
}

async function listen(server: Server, host: string, port = 0): Promise<Recorder> {
  const rec: Recorder = { server, port: 0, connections: 0, requests: [] };
  server.on('connection', () => rec.connections++);
  server.on('request', (req: IncomingMessage) => rec.requests.push(`${req.headers.host} ${req.url}`));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  rec.port = (server.address() as AddressInfo).port;
  return rec;
}

/** Two servers on the same port: 127.0.0.2 (allowed in these tests) and 127.0.0.1 (the "private" one). */
async function pair(make: () => Server): Promise<{ allowed: Recorder; secret: Recorder }> {
  for (let attempt = 0; ; attempt++) {
    const allowed = await listen(make(), '127.0.0.2');
    try {
      return { allowed, secret: await listen(make(), '127.0.0.1', allowed.port) };
    } catch (err) {
      allowed.server.close();
      if (attempt > 5) throw err;
    }
  }
}

const closeAll = (...rs: Recorder[]) =>
  Promise.all(rs.map((r) => new Promise<void>((ok) => (r.server.closeAllConnections(), r.server.close(() => ok())))));

/** A resolver that answers `first` once, then `later`: the rebinding attacker's DNS. */
function rebinding(first: string, later: string): Resolve & { calls: number } {
  const fn = Object.assign(
    async () => {
      fn.calls++;
      return [{ address: fn.calls === 1 ? first : later, family: 4 }];
    },
    { calls: 0 },
  );
  return fn;
}

const handler = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
  if (req.url === '/to-secret') return void res.writeHead(302, { location: `http://127.0.0.1:${req.socket.localPort}/stolen` }).end();
  if (req.url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
  if (req.url === '/to-mapped') return void res.writeHead(307, { location: `http://[::ffff:127.0.0.1]:${req.socket.localPort}/stolen` }).end();
  if (req.url === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
  if (req.url === '/hop') return void res.writeHead(301, { location: '/hello' }).end();
  if (req.url === '/big') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const chunk = Buffer.alloc(64 * 1024, 97);
    let sent = 0;
    const pump = () => {
      while (sent < 3 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end();
    };
    return pump();
  }
  if (req.url === '/big-declared') return void res.writeHead(200, { 'content-length': String(3 * 1024 * 1024) }).end(Buffer.alloc(3 * 1024 * 1024));
  if (req.url === '/bomb') return void res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync(Buffer.alloc(8 * 1024 * 1024)));
  if (req.url === '/gzip')
    return void res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' }).end(gzipSync('compressed hello'));
  if (req.url === '/silent') return; // never answers
  if (req.url === '/stall') return void res.writeHead(200, { 'content-type': 'text/plain' }).write('partial'); // never ends
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`${name} ${req.method} ${req.url}`);
};

describe('connections (development, http)', () => {
  let allowed: Recorder;
  let secret: Recorder;
  // Only 127.0.0.2 is allowed; 127.0.0.1 plays the private network.
  const outbound = (resolve?: Resolve) =>
    new Outbound({ env: 'development', allow: parseAllowList('127.0.0.2/32'), ...(resolve ? { resolve } : {}) });

  beforeAll(async () => {
    ({ allowed, secret } = await pair(() => createHttpServer()));
    allowed.server.on('request', handler('allowed'));
    secret.server.on('request', handler('secret'));
  });
  afterAll(() => closeAll(allowed, secret));

  test('DNS rebinding: the address checked is the address connected to', async () => {
    const resolve = rebinding('127.0.0.2', '127.0.0.1');
    const res = await outbound(resolve).fetcher()(`http://rebind.parley.test:${allowed.port}/hello`);
    expect(await res.text()).toBe('allowed GET /hello');
    expect(res.url).toBe(`http://rebind.parley.test:${allowed.port}/hello`);
    expect(resolve.calls).toBe(1);
    // The Host header is the name asked for; the socket went to the checked address only.
    expect(allowed.requests.at(-1)).toBe(`rebind.parley.test:${allowed.port} /hello`);
    expect(secret.connections).toBe(0);
  });

  test('DNS rebinding: public when checked, private later: no connection to the private address', async () => {
    const resolve = rebinding('93.184.216.34', '127.0.0.1');
    const fetch = outbound(resolve).fetcher({ connectTimeoutMs: 300, timeoutMs: 1000 });
    await expect(fetch(`http://rebind.parley.test:${secret.port}/stolen`)).rejects.toBeInstanceOf(OutboundError);
    expect(resolve.calls).toBe(1);
    expect(secret.connections).toBe(0);
  });

  test('every resolved address is checked: one private address among public ones is refused', async () => {
    const resolve: Resolve = async () => [
      { address: '127.0.0.2', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    await expect(outbound(resolve).fetcher()(`http://mixed.parley.test:${allowed.port}/`)).rejects.toMatchObject({
      code: 'not_public',
      message: expect.stringMatching(/resolves to a loopback address/),
    });
    const before = allowed.connections;
    await expect(outbound(async () => []).fetcher()(`http://nowhere.parley.test:${allowed.port}/`)).rejects.toMatchObject({ code: 'unresolved' });
    expect(allowed.connections).toBe(before);
    expect(secret.connections).toBe(0);
  });

  test('a redirect to a private address is refused before any connection to it', async () => {
    const fetch = outbound().fetcher();
    for (const path of ['/to-secret', '/to-metadata', '/to-mapped']) {
      await expect(fetch(`http://127.0.0.2:${allowed.port}${path}`)).rejects.toMatchObject({
        code: 'not_public',
        message: expect.stringMatching(/redirect was refused/),
      });
    }
    expect(secret.connections).toBe(0);
    // A redirect that stays allowed is followed, and re-checked; loops are bounded.
    expect(await (await fetch(`http://127.0.0.2:${allowed.port}/hop`)).text()).toBe('allowed GET /hello');
    await expect(fetch(`http://127.0.0.2:${allowed.port}/loop`)).rejects.toMatchObject({ code: 'redirect', message: 'more than 5 redirects' });
    await expect(outbound().fetcher({ redirect: 'error' })(`http://127.0.0.2:${allowed.port}/hop`)).rejects.toMatchObject({ code: 'redirect' });
    expect((await outbound().fetcher({ redirect: 'manual' })(`http://127.0.0.2:${allowed.port}/hop`)).status).toBe(301);
  });

  test('the direct request to a private address is refused without connecting', async () => {
    await expect(outbound().fetcher()(`http://127.0.0.1:${secret.port}/`)).rejects.toMatchObject({ code: 'not_public' });
    await expect(outbound().fetcher()(`http://localhost:${secret.port}/`)).rejects.toMatchObject({ code: 'not_public' });
    expect(secret.connections).toBe(0);
  });

  test('an oversized body is refused: streamed, declared, or compressed', async () => {
    const fetch = outbound().fetcher({ maxBytes: 1024 * 1024 });
    const streamed = await fetch(`http://127.0.0.2:${allowed.port}/big`);
    await expect(streamed.text()).rejects.toMatchObject({ code: 'too_large', message: 'the response is larger than 1 MB' });
    await expect(fetch(`http://127.0.0.2:${allowed.port}/big-declared`)).rejects.toMatchObject({ code: 'too_large' });
    await expect((await fetch(`http://127.0.0.2:${allowed.port}/bomb`)).arrayBuffer()).rejects.toMatchObject({ code: 'too_large' });
    // Compressed bodies are decoded (and counted decoded).
    expect(await (await fetch(`http://127.0.0.2:${allowed.port}/gzip`)).text()).toBe('compressed hello');
  });

  test('time is bounded: no answer, and an answer that never ends', async () => {
    const fetch = outbound().fetcher({ timeoutMs: 400 });
    const started = Date.now();
    await expect(fetch(`http://127.0.0.2:${allowed.port}/silent`)).rejects.toMatchObject({ code: 'timeout' });
    const stalled = await fetch(`http://127.0.0.2:${allowed.port}/stall`);
    await expect(stalled.text()).rejects.toMatchObject({ code: 'timeout' });
    // A resolver that never answers counts against the same deadline.
    const hanging = new Outbound({ env: 'development', allow: parseAllowList('127.0.0.2/32'), resolve: () => new Promise(() => {}) });
    await expect(hanging.fetcher({ timeoutMs: 400 })(`http://slow-dns.parley.test:${allowed.port}/`)).rejects.toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(4000);
  });

  test('a POST body and headers go through; credentials are not carried across origins', async () => {
    const res = await outbound().fetcher()(`http://127.0.0.2:${allowed.port}/echo`, {
      method: 'POST',
      body: JSON.stringify({ a: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(await res.text()).toBe('allowed POST /echo');
  });
});

describe('connections (production, https)', () => {
  let allowed: Recorder;
  let secret: Recorder;

  beforeAll(async () => {
    ({ allowed, secret } = await pair(() => createHttpsServer(tls)));
    allowed.server.on('request', handler('allowed'));
    secret.server.on('request', handler('secret'));
  });
  afterAll(() => closeAll(allowed, secret));

  test('a CIDR listed in PARLEY_OUTBOUND_ALLOW is reachable over verified TLS, by name, on the checked address', async () => {
    const resolve = rebinding('127.0.0.2', '127.0.0.1');
    const o = new Outbound({ env: 'production', allow: parseAllowList('127.0.0.2/32'), resolve, ca: tls.cert });
    const res = await o.fetcher()(`https://api.parley.test:${allowed.port}/hello`);
    expect(await res.text()).toBe('allowed GET /hello');
    expect(secret.connections).toBe(0);
    // Not listed: refused, whatever the name.
    const strict = new Outbound({
      env: 'production',
      allow: parseAllowList(''),
      resolve: async () => [{ address: '127.0.0.2', family: 4 }],
      ca: tls.cert,
    });
    await expect(strict.fetcher()(`https://api.parley.test:${allowed.port}/hello`)).rejects.toMatchObject({ code: 'not_public' });
    await expect(o.fetcher()(`http://api.parley.test:${allowed.port}/hello`)).rejects.toMatchObject({ code: 'scheme' });
  });
});
