// Knowledge end to end: chunking, safe HTML, BM25 in Postgres, atomic replace, isolation, crawling,
// and a visitor getting a cited answer — or a person when the knowledge has none.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type DemoTenant, seedDemo } from '../cli/demo.js';
import { runTurn, type TurnDeps } from '../conversations/turn.js';
import { finishOrphanedTurns } from '../jobs/turn-sweep.js';
import type { CreatedTenant } from '../tenants/service.js';
import { startTestApp, type TestApp } from '../test/app.js';
import { call } from '../test/http.js';
import { Visitor } from '../test/widget.js';
import { analyze } from './analyze.js';
import { chunkMarkdown } from './chunk.js';
import { htmlToText } from './html.js';

const RETURNS = `# Returns and refunds

## Return window
You can return any unworn item within 30 days of delivery. Items must have their original tags.

## Refund timing
Refunds are issued to the original payment method within 5 business days after we receive the parcel.

## Exchanges
We do not offer direct exchanges. Return the item and place a new order instead.
`;
const SHIPPING = `# Shipping

## Delivery times
Standard delivery takes 3 to 5 business days. Express delivery arrives the next business day if ordered before 2 pm.

## International shipping
We ship to 40 countries. Customs duties are paid by the recipient.
`;

describe('chunking and HTML', () => {
  test('chunks follow headings, keep the heading path, an anchor and their position', () => {
    const chunks = chunkMarkdown(RETURNS, { title: 'Returns', url: 'https://help.example/returns' });
    expect(chunks.map((c) => [c.position, c.title, c.anchor])).toEqual([
      [0, 'Returns › Returns and refunds › Return window', 'https://help.example/returns#return-window'],
      [1, 'Returns › Returns and refunds › Refund timing', 'https://help.example/returns#refund-timing'],
      [2, 'Returns › Returns and refunds › Exchanges', 'https://help.example/returns#exchanges'],
    ]);
  });

  test('identical content in one source is stored once; long sections split', () => {
    const dup = chunkMarkdown('## A\nsame words here.\n\n## A\nsame words here.', { title: 'T', url: null });
    expect(dup).toHaveLength(1);
    const long = chunkMarkdown(
      `## Long\n${Array.from({ length: 60 }, (_, i) => `Sentence number ${i} talks about parcels and lockers.`).join(' ')}`,
      { title: 'T', url: null },
    );
    expect(long.length).toBeGreaterThan(1);
  });

  test('HTML keeps visible text and headings; scripts, styles and navigation never reach the index', () => {
    const { text, title } = htmlToText(
      `<html><head><title>Help &amp; FAQ</title><style>.x{}</style><script>alert("pwned")</script></head>
       <body><nav>Home | Login</nav><h2>Gift cards</h2><p>Gift cards never expire &mdash; use them &lt;anytime&gt;.</p>
       <noscript>enable js</noscript><iframe src="https://evil.example"></iframe><footer>© corp</footer></body></html>`,
    );
    expect(title).toBe('Help & FAQ');
    expect(text).toBe('## Gift cards\n\nGift cards never expire — use them <anytime>.');
    expect(text).not.toMatch(/pwned|Login|enable js|corp/);
  });

  test('the analyser stems and drops stop words', () => {
    expect(analyze('The refunds were refunded, refunding!')).toEqual(['refund', 'refund', 'refund']);
  });

  test("a redaction placeholder is no word of the visitor's: its class name is not a term", () => {
    expect(analyze('[PERSON_1] wrote from [EMAIL_2] about [BANK_ACCOUNT_1]')).toEqual(['wrote']);
    // Text merely shaped like one, and the words around it, are kept.
    expect(analyze('[NOTE_1] my email')).toEqual(['note', 'email']);
  });
});

describe('over the admin API', () => {
  let t: TestApp;
  let a: CreatedTenant;
  let b: CreatedTenant;
  let site: Server;
  let siteUrl: string;
  /** The demo tenant, seeded once by the first test that needs it. */
  let demo: DemoTenant | undefined;
  const admin = (method: string, path: string, body?: unknown, key = a.secretKey) => call(t.url, method, `/v1/admin${path}`, { key, body });
  const search = async (query: string, key = a.secretKey) =>
    (await admin('POST', '/knowledge/search', { query, limit: 5 }, key)).body.results as any[];

  beforeAll(async () => {
    t = await startTestApp();
    a = await t.tenant('Shop A', ['shop.a.example']);
    b = await t.tenant('Shop B', ['b.example']);
    site = createServer((req, res) => {
      if (req.url === '/sitemap.xml') {
        res.setHeader('content-type', 'application/xml');
        res.end(
          `<urlset><url><loc>${siteUrl}/gift-cards</loc></url><url><loc>${siteUrl}/warranty</loc></url><url><loc>https://elsewhere.example/x</loc></url></urlset>`,
        );
      } else if (req.url === '/gift-cards') {
        res.setHeader('content-type', 'text/html');
        res.end('<h1>Gift cards</h1><p>Gift cards are valid for three years and can be topped up in store.</p>');
      } else if (req.url === '/warranty') {
        res.setHeader('content-type', 'text/html');
        res.end('<h1>Warranty</h1><p>Electronics carry a two-year manufacturer warranty.</p>');
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/gift-cards' }).end();
      } else res.writeHead(404).end();
    });
    await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    site.close();
    await t.close();
  });

  test('ingest, then BM25 finds the right section with its anchor', async () => {
    const res = await admin('POST', '/knowledge/sources', {
      kind: 'markdown',
      content: RETURNS,
      url: 'https://help.a.example/returns',
      externalId: 'returns',
    });
    expect(res.status).toBe(201);
    expect(res.body.sources[0]).toMatchObject({ externalId: 'returns', chunks: 3, changed: true });
    await admin('POST', '/knowledge/sources', {
      kind: 'markdown',
      content: SHIPPING,
      url: 'https://help.a.example/shipping',
      externalId: 'shipping',
    });
    const results = await search('how long until I get my refund?');
    expect(results[0]).toMatchObject({
      title: expect.stringContaining('Refund timing'),
      url: 'https://help.a.example/returns#refund-timing',
      externalId: 'returns',
    });
    expect((await search('international customs'))[0].title).toContain('International shipping');
  });

  test('the same content again changes nothing; changed content replaces the chunks', async () => {
    const again = await admin('POST', '/knowledge/sources', {
      kind: 'markdown',
      content: RETURNS,
      url: 'https://help.a.example/returns',
      externalId: 'returns',
    });
    expect(again.body.sources[0].changed).toBe(false);
    const changed = await admin('POST', '/knowledge/sources', {
      kind: 'markdown',
      content: RETURNS.replace('30 days', '60 days'),
      url: 'https://help.a.example/returns',
      externalId: 'returns',
    });
    expect(changed.status).toBe(200);
    const window = (await search('return window days'))[0];
    expect(window.text).toContain('60 days');
    expect((await search('return window days')).some((r) => r.text.includes('30 days'))).toBe(false);
  });

  test('a re-ingest that fails leaves the previous chunks and statistics as they were', async () => {
    const before = await search('return window days');
    const spy = vi.spyOn(t.runtime.audit, 'append').mockRejectedValueOnce(new Error('disk full'));
    const res = await admin('POST', '/knowledge/sources', { kind: 'markdown', content: '# Returns\n\nNo returns at all.', externalId: 'returns' });
    spy.mockRestore();
    expect(res.status).toBe(500);
    expect(await search('return window days')).toEqual(before);
  });

  test('a visitor\'s numbers weigh less than their words: "three weeks ago" is no match for "valid for three years"', async () => {
    const c = await t.tenant('Shop C', ['c.example']);
    const content =
      '# Help\n\n## Validity\nGift cards are valid for three years.\n\n## Return window\nYou can return any unworn item within 30 days of delivery.';
    expect((await admin('POST', '/knowledge/sources', { kind: 'markdown', content, externalId: 'help' }, c.secretKey)).status).toBe(201);
    const results = await search('bought boots three weeks ago, too late to send them back?', c.secretKey);
    expect(results[0]?.title).toContain('Return window');
  });

  // The demo tenant, as `npm start` seeds it (its knowledge and synonyms: "money back = refund", …): each
  // question reaches its passage first, for the reason given.
  test.each([
    [
      // "returned", "item" and "still" are all in the window's text; "still no refund" asks how long to wait.
      'a heading that names the kind of question wins over a passage with more of its words: a wait reaches the timing',
      'returned an item last week, still no refund',
      'Returns and refunds › Refund timing',
    ],
    [
      '"how much time do I have" asks for a deadline, not a cost or a wait: it reaches the return window',
      'how much time do I have to return sale stuff?',
      'Returns and refunds › Return window',
    ],
    [
      '"what\'s the process to …" asks for steps, as "how do I …" does: it reaches the page of steps',
      "what's the process to send a parcel back to you?",
      'Returns and refunds › How to start a return',
    ],
    [
      '"my money" after a return is the refund: it reaches the refund\'s timing, not the parcel\'s tracking',
      'when do I receive my money after you get the parcel?',
      'Returns and refunds › Refund timing',
    ],
    [
      'worn shoes are a return condition: the question reaches the return window, not "place a new order"',
      'can I send back shoes I have already worn outside?',
      'Returns and refunds › Return window',
    ],
    [
      '"where is my parcel" is a tracking question: it reaches the tracking page, not a page that says "see"',
      'how can I see where my parcel is?',
      'Delivery and shipping › Tracking your order',
    ],
    [
      'a month is no modal verb: boots bought in May do not draw search to "your bank may take a few more days"',
      'I bought boots from you in May. They are too big. How do I return them?',
      'Returns and refunds › How to start a return',
    ],
  ])('%s', async (_why, question, title) => {
    demo ??= await seedDemo(t.runtime, t.url);
    expect((await search(question, demo.secretKey))[0]?.title).toBe(title);
  });

  test('"how do I …" about something the knowledge lacks is not answered from a heading that names another action', async () => {
    const c = await seedDemo(t.runtime, t.url);
    const v = new Visitor(t.url, c.publishableKey, t.url);
    await v.start();
    // A fresh conversation per question: one handed off belongs to a person.
    const ask = async (q: string) => {
      const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
      return (await v.say(conv, q)).find((e) => e.event === 'done')!.data.message;
    };
    // Resetting a password is a procedure too, but not this one: it was answered at p = 0.76.
    const done = await ask('how do I unsubscribe from your newsletter emails?');
    expect(done.citations.filter((x: { suggested?: boolean }) => !x.suggested)).toEqual([]);
    const asked = await ask('how do I reset my password?');
    expect(asked.citations).toEqual([expect.objectContaining({ title: 'Your account › Resetting your password' })]);
  });

  test("tenant B's knowledge never comes back for tenant A, and the reverse", async () => {
    await admin(
      'POST',
      '/knowledge/sources',
      { kind: 'text', content: 'Our loyalty programme gives double points on Tuesdays.', externalId: 'loyalty' },
      b.secretKey,
    );
    expect(await search('loyalty points tuesday')).toEqual([]);
    expect((await search('loyalty points tuesday', b.secretKey))[0].text).toContain('double points');
    expect(await search('refund', b.secretKey)).toEqual([]);
  });

  test('deleting a source removes its chunks and its statistics', async () => {
    const src = (await admin('POST', '/knowledge/sources', { kind: 'text', content: 'Zebra-striped umbrellas are sold out.', externalId: 'zebra' }))
      .body.sources[0];
    expect(await search('zebra umbrellas')).toHaveLength(1);
    expect((await admin('DELETE', `/knowledge/sources/${src.id}`)).status).toBe(204);
    expect(await search('zebra umbrellas')).toEqual([]);
    const df = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query("SELECT * FROM knowledge_terms WHERE term = 'zebra'"),
    );
    expect(df.rows).toEqual([]);
    expect((await admin('DELETE', `/knowledge/sources/${src.id}`)).status).toBe(404);
  });

  test('deleting a source while it is rewritten neither deadlocks nor leaves chunks behind', async () => {
    // Writes lock the tenant's statistics, then the source; a delete took them the other way round, so on
    // PostgreSQL a delete meeting a rewrite of the same source deadlocked (500).
    for (let round = 0; round < 4; round++) {
      const externalId = `racing-${round}`;
      const src = (await admin('POST', '/knowledge/sources', { kind: 'text', content: 'Gift cards never expire.', externalId })).body.sources[0];
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          i % 2
            ? admin('DELETE', `/knowledge/sources/${src.id}`)
            : admin('POST', '/knowledge/sources', { kind: 'text', content: `Gift cards and store credit, rewrite ${i}.`, externalId }),
        ),
      );
      expect(answers.map((r) => r.status).filter((s) => s >= 500)).toEqual([]);
    }
    const { rows } = await t.runtime.db.withTenant(a.tenant.id, { requestId: null }, (tx) =>
      tx.query<{ orphans: number; counted: number; held: number }>(
        `SELECT (SELECT count(*)::int FROM knowledge_chunks c WHERE NOT EXISTS (SELECT 1 FROM knowledge_sources s WHERE s.id = c.source_id)) AS orphans,
                (SELECT chunk_count FROM knowledge_stats) AS counted, (SELECT count(*)::int FROM knowledge_chunks) AS held`,
      ),
    );
    expect(rows[0]!.orphans).toBe(0);
    expect(rows[0]!.counted).toBe(rows[0]!.held);
  });

  test('a sitemap ingests its own pages only (as a background job); redirects are followed; re-sync works', async () => {
    const res = await admin('POST', '/knowledge/sources', { kind: 'sitemap', url: `${siteUrl}/sitemap.xml` });
    expect(res.status).toBe(202);
    let job = res.body.job;
    for (let i = 0; i < 200 && job.status !== 'done' && job.status !== 'failed'; i++) {
      await new Promise((r) => setTimeout(r, 50));
      job = (await admin('GET', `/knowledge/jobs/${job.id}`)).body.job;
    }
    expect(job).toMatchObject({ status: 'done', pagesTotal: 2, pagesDone: 2 });
    const sources = (await admin('GET', '/knowledge/sources')).body.sources.filter((s: any) => s.kind === 'sitemap');
    expect(sources.map((s: any) => s.url)).toEqual([`${siteUrl}/gift-cards`, `${siteUrl}/warranty`]);
    expect((await search('warranty electronics'))[0].title).toContain('Warranty');
    const moved = await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/moved`, externalId: 'moved' });
    expect(moved.body.sources[0].url).toBe(`${siteUrl}/gift-cards`);
    expect((await admin('POST', `/knowledge/sources/${moved.body.sources[0].id}/resync`)).body.source.changed).toBe(false);
    expect((await admin('POST', '/knowledge/sources', { kind: 'url', url: `${siteUrl}/missing` })).status).toBe(422);
  });

  test('bad input is refused and nothing is stored', async () => {
    const before = (await admin('GET', '/knowledge/sources')).body.sources.length;
    for (const body of [
      { kind: 'pdf', content: 'x' },
      { kind: 'markdown' },
      { kind: 'markdown', content: 'x', extra: 1 },
      { kind: 'url', url: 'file:///etc/passwd' },
    ]) {
      expect((await admin('POST', '/knowledge/sources', body)).status).toBe(400);
    }
    expect((await admin('GET', '/knowledge/sources')).body.sources.length).toBe(before);
  });

  test('a visitor gets a streamed, cited answer; an unanswerable question goes to a person', async () => {
    const v = new Visitor(t.url, a.publishableKey, 'https://shop.a.example');
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    const events = await v.say(conv, 'How long do refunds take?');
    const done = events.find((e) => e.event === 'done')!.data.message;
    expect(events.filter((e) => e.event === 'delta').length).toBeGreaterThan(0);
    expect(done.text).toContain('5 business days');
    expect(done.citations).toEqual([expect.objectContaining({ url: 'https://help.a.example/returns#refund-timing' })]);
    expect(done.confidence).toBeGreaterThan(0.45);
    expect(events.some((e) => e.event === 'handoff')).toBe(false);

    const unknown = await v.say(conv, 'Can I pay with cryptocurrency tokens on Mars?');
    expect(unknown.at(-1)).toMatchObject({ event: 'handoff', data: { handoff: { reason: 'low_confidence' } } });
    expect(unknown.find((e) => e.event === 'done')!.data.message.citations).toEqual([]);
  });

  test('typing slips: search and the answer read "refnuds" as refunds; a word of English is never corrected', async () => {
    expect((await search('refnuds timng'))[0]?.title).toContain('Refund timing');
    const v = new Visitor(t.url, a.publishableKey, 'https://shop.a.example');
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    const done = (await v.say(conv, 'How long do refnuds take?')).find((e) => e.event === 'done')!.data.message;
    expect(done.citations).toEqual([expect.objectContaining({ url: 'https://help.a.example/returns#refund-timing' })]);
    expect(done.text).toContain('5 business days');
    // "widow" is a word: no slip for "window", so nothing is found.
    expect(await search('widow')).toEqual([]);
  });

  test("the placeholders that replace a visitor's personal data never steer the answer", async () => {
    // A tenant whose knowledge has "email" and "person" in it: a name and an address stored as [PERSON_1]
    // and [EMAIL_1] used to match these passages through the placeholders' class names.
    const c = await t.tenant('Shop C', ['shop.c.example']);
    const res = await call(t.url, 'POST', '/v1/admin/knowledge/sources', {
      key: c.secretKey,
      body: {
        kind: 'markdown',
        content:
          '# Help\n\n## Newsletter emails\nUnsubscribe from our email newsletter with the link in every email.\n\n## Personal shopping\nBook a personal shopper: a person helps you choose in store.\n',
        externalId: 'help',
      },
    });
    expect(res.status).toBe(201);
    const v = new Visitor(t.url, c.publishableKey, 'https://shop.c.example');
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    const events = await v.say(conv, 'Hello, Anna Lindqvist here, anna.lindqvist@example.com');
    expect(events.find((e) => e.event === 'done')!.data.message.citations).toEqual([]);
    expect(events.some((e) => e.event === 'handoff')).toBe(true);
  });

  test('a question about a cost finds the passage saying it is free, and the visitor gets that sentence', async () => {
    const d = await t.tenant('Shop D', ['shop.d.example']);
    const content = `# Returns\n\n## Return window\nYou can return any unworn item within 30 days of delivery. Sale items can be returned within 14 days.\n\n## How to start a return\nOpen Orders and select Return items. Print the prepaid label. Returns are free within the country.\n\n## Exchanges\nWe do not offer direct exchanges. Return the item and place a new order.\n`;
    expect(
      (await call(t.url, 'POST', '/v1/admin/knowledge/sources', { key: d.secretKey, body: { kind: 'markdown', content, externalId: 'returns' } }))
        .status,
    ).toBe(201);
    const results = (
      await call(t.url, 'POST', '/v1/admin/knowledge/search', { key: d.secretKey, body: { query: 'do you charge for returns?', limit: 3 } })
    ).body.results;
    expect(results[0].title).toContain('How to start a return');
    const v = new Visitor(t.url, d.publishableKey, 'https://shop.d.example');
    await v.start();
    const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
    const done = (await v.say(conv, 'Do you charge for returns?')).find((e) => e.event === 'done')!.data.message;
    expect(done.text).toContain('Returns are free within the country.');
  });

  test('a story told before the question: offered where it draws search elsewhere, judged on the question where it agrees', async () => {
    const e = await t.tenant('Shop E', ['shop.e.example']);
    for (const name of ['returns', 'shipping']) {
      const content = readFileSync(new URL(`../../../examples/demo-knowledge/${name}.md`, import.meta.url), 'utf8');
      expect(
        (await call(t.url, 'POST', '/v1/admin/knowledge/sources', { key: e.secretKey, body: { kind: 'markdown', content, externalId: name } }))
          .status,
      ).toBe(201);
    }
    const v = new Visitor(t.url, e.publishableKey, 'https://shop.e.example');
    await v.start();
    const ask = async (text: string) => {
      const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
      return (await v.say(conv, text)).find((ev) => ev.event === 'done')!.data.message;
    };
    // The story is about tracking; the question is about the refund. The refund is offered, never the tracking answered.
    const story = await ask('My parcel went back to you on Monday. The tracking says it was delivered. When do I get my money?');
    expect(story.citations.every((c: { suggested?: boolean }) => c.suggested)).toBe(true);
    expect(story.citations.map((c: { title: string }) => c.title)).toContain('Returns and refunds › Refund timing');
    // A story that agrees with its question is answered as before.
    const agrees = await ask('I bought a fleece in the sale. It does not fit. How long do I have to send it back?');
    expect(agrees.citations).toEqual([expect.objectContaining({ title: 'Returns and refunds › Return window' })]);
    expect(agrees.citations[0].suggested).toBeUndefined();
    // Where it agrees, the answer is judged on the question: an introduction is no reason to doubt it.
    const introduced = await ask('Hello, my name is Tom Baker and I live in Oslo. Do you deliver to Norway?');
    expect(introduced.citations).toEqual([expect.objectContaining({ title: 'Delivery and shipping › International shipping' })]);
    expect(introduced.citations[0].suggested).toBeUndefined();
  });

  test('"Did you mean": between the two thresholds the visitor is offered headings, picks one and gets its passage', async () => {
    // Thresholds that put every retrieved answer between them, so the offer is certain.
    expect((await admin('PATCH', '/settings', { handoff: { threshold: 0.999, suggestThreshold: 0.001 } })).status).toBe(200);
    try {
      const v = new Visitor(t.url, a.publishableKey, 'https://shop.a.example');
      await v.start();
      const conv = (await v.call('POST', '/conversations', {})).body.conversation.id;
      const offered = await v.say(conv, 'when will my money come back?');
      expect(offered.some((e) => e.event === 'handoff')).toBe(false);
      const offer = offered.find((e) => e.event === 'done')!.data.message;
      expect(offer.text).toMatch(/^Did you mean: .*\?$/);
      expect(offer.citations.length).toBeGreaterThan(0);
      expect(offer.citations.every((c: { suggested?: boolean }) => c.suggested === true)).toBe(true);
      const pick = offer.citations.find((c: { url: string }) => c.url.endsWith('#refund-timing'));
      expect(pick).toBeDefined();

      const picked = await v.say(conv, 'Refund timing', { pick: pick.chunkId });
      const done = picked.find((e) => e.event === 'done')!.data.message;
      expect(done.text).toContain('within 5 business days');
      expect(done.citations).toEqual([{ title: pick.title, url: pick.url, chunkId: pick.chunkId }]);
      expect(done.confidence).toBe(1);
      // The stored conversation shows the offer as it was made.
      const stored = (await v.call('GET', `/conversations/${conv}`)).body.messages;
      expect(stored.some((m: { citations: { suggested?: boolean }[] }) => m.citations.some((c) => c.suggested))).toBe(true);

      // An instance that dies after storing a pick, before answering it: the turn sweeper answers with the
      // picked passage, as the turn would have (it used to answer the heading's words as a new question).
      const turns = t.app.locals.turns as TurnDeps;
      const dying = runTurn(
        { ...turns, claimMs: 1 },
        {
          tenantId: a.tenant.id,
          conversationId: conv,
          visitorId: v.visitorRef,
          subject: null,
          text: 'Refund timing',
          clientMessageId: 'dies-1',
          requestId: 'req-dies',
          pick: pick.chunkId,
        },
        (e) => {
          if (e.type === 'message') throw new Error('the instance died here');
        },
      );
      await expect(dying).rejects.toThrow('the instance died here');
      await new Promise((r) => setTimeout(r, 20));
      expect(await finishOrphanedTurns(turns)).toEqual({ answered: 1, handedOff: 0 });
      const swept = (await v.call('GET', `/conversations/${conv}`)).body.messages.at(-1);
      expect(swept).toMatchObject({ role: 'assistant', citations: [{ chunkId: pick.chunkId }] });
      expect(swept.text).toContain('within 5 business days');

      // A pick of a passage never offered in this conversation is an ordinary question, not a way to read chunks by id.
      const other = (await v.call('POST', '/conversations', {})).body.conversation.id;
      const sneaky = await v.say(other, 'zebra quantum', { pick: pick.chunkId });
      expect(sneaky.find((e) => e.event === 'done')!.data.message.text).not.toContain('5 business days');
      expect(sneaky.some((e) => e.event === 'handoff')).toBe(true);
    } finally {
      await admin('PATCH', '/settings', { handoff: null });
    }
  });
});
