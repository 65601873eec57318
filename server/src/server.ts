// Starting and stopping the HTTP server around a runtime.
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { refusalSummarySweep } from './audit/refusals.js';
import { INTEGRATE_POLL_MS } from './audit/integrator.js';
import { checkpointSweep } from './audit/sweep.js';
import { recordInstance, type Config } from './config.js';
import { answerClientErrors } from './http/client-error.js';
import { redisLimitStores } from './http/limit-store.js';
import { createLogger } from './http/logger.js';
import { newPlatformKey, removeControlFile, writeControlFile } from './platform/control.js';
import { listenForChanges, openRuntime, vectorStoreFor, type Heard, type Runtime } from './runtime.js';
import { newHolderId } from './jobs/lease.js';
import { runRotationSweep } from './jobs/rotation.js';
import { runRetentionSweep } from './jobs/retention.js';
import { runDueDeletions } from './tenants/deletion.js';
import { runEvidenceSweep } from './jobs/evidence.js';
import { runApprovalSweep } from './jobs/approvals.js';
import type { ApprovalDeps } from './approvals/service.js';
import { runTurnSweep, sweepEveryMs } from './jobs/turn-sweep.js';
import type { TurnDeps } from './conversations/turn.js';
import { Drain } from './http/drain.js';
import type { CrawlWorker } from './knowledge/jobs.js';
import type { WebhookWorker } from './webhooks/worker.js';
import { seedDemo, type DemoTenant } from './cli/demo.js';

export interface RunningServer {
  runtime: Runtime;
  demo: DemoTenant | null;
  server: Server;
  url: string;
  logger: Logger;
  /**
   * Shuts down gracefully: drains (readiness 503, no new connections, live streams told to reconnect),
   * lets requests in flight finish within `graceMs` (the config's by default), stops the background
   * workers (their leases given back), then closes the database. `cut`: connections still open at the
   * bound, closed by force (0 when everything finished).
   */
  close(opts?: { graceMs?: number }): Promise<{ cut: number }>;
}

export async function startServer(config: Config, opts: { logger?: Logger; seedDemo?: boolean } = {}): Promise<RunningServer> {
  const logger = opts.logger ?? createLogger(config.logLevel);
  const runtime = await openRuntime(config, { logger });
  // Browsers refuse WebAuthn on an IP address: passkeys need a host name.
  if (isIP(new URL(config.publicUrl).hostname.replace(/^\[|\]$/g, ''))) {
    logger.warn(
      { publicUrl: config.publicUrl },
      'PARLEY_PUBLIC_URL is an IP address: browsers refuse passkeys there; use a host name (e.g. localhost)',
    );
  }
  const demo = opts.seedDemo ? await seedDemo(runtime, config.publicUrl) : null;
  // Only the embedded database is single-process; against a server the CLI opens the database itself.
  const platformKey = config.databaseUrl ? undefined : newPlatformKey();
  let limits: Awaited<ReturnType<typeof redisLimitStores>> | undefined;
  try {
    limits = config.redisUrl ? await redisLimitStores(config.redisUrl, config.redisKeyPrefix, logger) : undefined;
  } catch (err) {
    await runtime.close();
    throw err;
  }
  const drain = new Drain();
  const app = createApp({
    limits,
    platformKey,
    drain,
    config,
    db: runtime.db,
    audit: runtime.audit,
    logger,
    keyring: runtime.keyring,
    ...(demo ? { demoPublishableKey: demo.publishableKey } : {}),
  });
  // On PostgreSQL, the events other instances commit wake this one's streams (conversations/notify.ts),
  // and key and page-view changes anywhere drop what this one keeps (tenants/key-cache.ts, widget/front-cache.ts).
  const stopListening = await listenForChanges(runtime.db, config.databaseUrl, app.locals.heard as Heard, logger);
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    answerClientErrors(server);
  } catch (err) {
    await stopListening();
    await limits?.close();
    await runtime.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${config.port} is already in use: stop the other process or set PORT`);
    }
    throw err;
  }
  // Declared before the sweeps below use it: shutdown waits for every run started here.
  const running = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>, what: string) => {
    const t = p.catch((err) => logger.warn({ err: { message: (err as Error).message } }, `${what} failed`)).finally(() => running.delete(t));
    running.add(t);
  };
  const sweep = setInterval(
    () => {
      track(checkpointSweep(runtime.db, runtime.audit), 'checkpoint sweep');
      track(refusalSummarySweep(runtime.db, runtime.audit), 'refusal summary sweep');
    },
    Math.min(config.auditCheckpointIntervalMs, 60_000),
  );
  sweep.unref();
  // Audit integration: kicked by each commit that sequenced entries; this poll catches entries sequenced on
  // instances that did not hold the lease at the time (the lag bound across instances).
  const integrator = runtime.audit.integrator!;
  integrator.logger = logger;
  const integrate = setInterval(integrator.kick, INTEGRATE_POLL_MS);
  integrate.unref();
  integrator.kick();
  // Leased sweeps, tried on every instance; the lease lets one instance run each once per interval, and
  // another take over if that one dies mid-run. Shutdown aborts them between batches and waits for them.
  const holder = newHolderId();
  const stopping = new AbortController();
  // Hourly across the fleet is plenty for a rotation measured in days; a failed tenant is retried on the
  // next run. Tried every ten minutes so a dead holder's run is not an hour late.
  const rotation = setInterval(
    () =>
      track(
        runRotationSweep(runtime, holder, { signal: stopping.signal }).then((run) => {
          if (!run.ran) return;
          const { rotated, failures } = run.result;
          if (rotated) logger.info({ rotated }, 'data keys rotated');
          for (const f of failures) logger.warn({ tenantId: f.tenantId, err: { message: f.message } }, 'data key rotation failed');
        }),
        'data key rotation sweep',
      ),
    10 * 60_000,
  );
  rotation.unref();
  // Evidence packs kept current: tried every minute, run once per EVIDENCE_EVERY_MS across the fleet.
  const evidence = setInterval(
    () =>
      track(
        runEvidenceSweep(runtime, holder, { signal: stopping.signal }).then((run) => {
          if (!run.ran) return;
          if (run.result.built) logger.info({ built: run.result.built }, 'evidence packs built');
          for (const f of run.result.failures) logger.warn({ tenantId: f.tenantId, err: { message: f.message } }, 'evidence pack failed');
        }),
        'evidence sweep',
      ),
    60_000,
  );
  evidence.unref();
  // The approval rail: expiry, calls interrupted mid-way, approvals whose executor died; once per 30 s across the fleet.
  const approvalsJob = setInterval(
    () =>
      track(
        runApprovalSweep(app.locals.approvals as ApprovalDeps, holder, { signal: stopping.signal }).then((run) => {
          if (!run.ran) return;
          const { failures, ...counts } = run.result;
          if (counts.expired || counts.interrupted || counts.executed || counts.notified) logger.info(counts, 'approval sweep');
          for (const f of failures) logger.warn({ tenantId: f.tenantId, err: { message: f.message } }, 'approval sweep failed');
        }),
        'approval sweep',
      ),
    30_000,
  );
  approvalsJob.unref();
  const retention = setInterval(
    () => track(runRetentionSweep(runtime, holder, { logger, signal: stopping.signal }), 'retention sweep'),
    Math.min(config.sweepIntervalMs, 60_000),
  );
  retention.unref();
  // Tenant deletions that fell due (owners schedule them with a grace period), on one instance at a time.
  const deletions = setInterval(
    () =>
      track(runDueDeletions({ ...runtime, vectors: vectorStoreFor(config) }, holder, { logger, signal: stopping.signal }), 'tenant deletion sweep'),
    60_000,
  );
  deletions.unref();
  // Questions whose instance died before answering them (their claim lapsed): answered or handed off.
  const turns = app.locals.turns as TurnDeps;
  const turnEvery = sweepEveryMs(config.answerClaimMs);
  const turnSweep = setInterval(
    () => track(runTurnSweep(turns, holder, { everyMs: turnEvery / 2, logger, signal: stopping.signal }), 'turn sweep'),
    turnEvery,
  );
  turnSweep.unref();
  // Crawl jobs: picks up queued jobs and those whose holder died (its lease lapsed), checking at least
  // once per lease so a dead instance's crawl resumes soon after its lease ends.
  const crawler = app.locals.crawler as CrawlWorker;
  crawler.kick();
  const crawls = setInterval(() => crawler.kick(), Math.min(30_000, config.crawl.leaseMs));
  crawls.unref();
  // Webhook deliveries: new ones are kicked by their commit; the poll picks up retries as they come due
  // and deliveries whose holder died.
  const webhooks = app.locals.webhooks as WebhookWorker;
  await webhooks.start();
  const webhookPoll = setInterval(() => webhooks.kick(), 5_000);
  webhookPoll.unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  if (platformKey) {
    writeControlFile(config.dataDir, { url, pid: process.pid, key: platformKey });
    // Kept after it stops: the CLI's invitations link to this address, not to its own defaults.
    recordInstance(config);
  }
  return {
    runtime,
    demo,
    server,
    url,
    logger,
    async close(opts = {}) {
      const graceMs = opts.graceMs ?? config.shutdownGraceMs;
      const started = Date.now();
      // No new connections, first: a live stream told to reconnect (next) must not find this listener still
      // open. Idle keep-alive connections close now, and busy ones as their response ends.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Draining: readiness 503, live streams told to reconnect, responses close their connections.
      drain.start();
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      clearInterval(sweep);
      clearInterval(rotation);
      clearInterval(retention);
      clearInterval(deletions);
      clearInterval(evidence);
      clearInterval(approvalsJob);
      clearInterval(turnSweep);
      clearInterval(crawls);
      clearInterval(webhookPoll);
      clearInterval(integrate);
      stopping.abort();
      // Background work stops between jobs and gives its leases back, alongside the requests in flight.
      const background = Promise.all([crawler.stop(), webhooks.stop(), Promise.all(running)]);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<'bound'>((resolve) => {
        timer = setTimeout(() => resolve('bound'), graceMs);
      });
      let cut = 0;
      if ((await Promise.race([closed.then(() => 'done' as const), bound])) === 'bound') {
        cut = await new Promise<number>((resolve) => server.getConnections((_err, n) => resolve(n ?? 0)));
        logger.warn({ cut, graceMs }, 'shutdown grace period over: closing the connections still open');
        server.closeAllConnections();
        await closed;
      }
      await Promise.race([background, bound]);
      await stopListening();
      await limits?.close();
      clearTimeout(timer);
      clearInterval(idle);
      if (platformKey) removeControlFile(config.dataDir, platformKey);
      await runtime.close();
      logger.info({ ms: Date.now() - started, cut }, 'shut down');
      return { cut };
    },
  };
}
