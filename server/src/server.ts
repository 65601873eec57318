// Starting and stopping the HTTP server around a runtime.
import type { Server } from 'node:http';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { createApp } from './app.js';
import { refusalSummarySweep } from './audit/refusals.js';
import { checkpointSweep } from './audit/sweep.js';
import type { Config } from './config.js';
import { rotationSweep } from './crypto/rotation.js';
import { answerClientErrors } from './http/client-error.js';
import { redisLimitStores } from './http/limit-store.js';
import { createLogger } from './http/logger.js';
import { newPlatformKey, removeControlFile, writeControlFile } from './platform/control.js';
import { openRuntime, type Runtime } from './runtime.js';
import { newHolderId } from './jobs/lease.js';
import { runRetentionSweep } from './jobs/retention.js';
import type { ConversationBus } from './conversations/bus.js';
import { EventListener } from './conversations/notify.js';
import type { CrawlWorker } from './knowledge/jobs.js';
import type { WebhookWorker } from './webhooks/worker.js';
import { seedDemo, type DemoTenant } from './cli/demo.js';

export interface RunningServer {
  runtime: Runtime;
  demo: DemoTenant | null;
  server: Server;
  url: string;
  logger: Logger;
  close(): Promise<void>;
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
  const app = createApp({
    limits,
    platformKey,
    config,
    db: runtime.db,
    audit: runtime.audit,
    logger,
    keyring: runtime.keyring,
    ...(demo ? { demoPublishableKey: demo.publishableKey } : {}),
  });
  // On PostgreSQL, the events other instances commit wake this one's streams (conversations/notify.ts).
  const listener =
    runtime.db.kind === 'postgres' && config.databaseUrl
      ? new EventListener({ url: config.databaseUrl, bus: app.locals.bus as ConversationBus, logger })
      : null;
  await listener?.start();
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, () => resolve(s));
      s.once('error', reject);
    });
    answerClientErrors(server);
  } catch (err) {
    await listener?.stop();
    await limits?.close();
    await runtime.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${config.port} is already in use: stop the other process or set PORT`);
    }
    throw err;
  }
  const sweep = setInterval(
    () => {
      checkpointSweep(runtime.db, runtime.audit).catch((err) => logger.warn({ err: { message: (err as Error).message } }, 'checkpoint sweep failed'));
      refusalSummarySweep(runtime.db, runtime.audit).catch((err) =>
        logger.warn({ err: { message: (err as Error).message } }, 'refusal summary sweep failed'),
      );
    },
    Math.min(config.auditCheckpointIntervalMs, 60_000),
  );
  sweep.unref();
  // Hourly is plenty for a rotation measured in days; a failed tenant is retried on the next run.
  const rotation = setInterval(
    () => {
      rotationSweep(runtime.db, { keyring: runtime.keyring, audit: runtime.audit, days: config.dataKeyRotationDays }).then(
        ({ rotated, failures }) => {
          if (rotated) logger.info({ rotated }, 'data keys rotated');
          for (const f of failures) logger.warn({ tenantId: f.tenantId, err: { message: f.message } }, 'data key rotation failed');
        },
        (err) => logger.warn({ err: { message: (err as Error).message } }, 'data key rotation sweep failed'),
      );
    },
    60 * 60 * 1000,
  );
  rotation.unref();
  // Tried every minute on every instance; the lease lets one instance run it once per interval, and
  // another take over if that one dies mid-run.
  const holder = newHolderId();
  const retention = setInterval(
    () => {
      runRetentionSweep(runtime, holder, { logger }).catch((err) =>
        logger.warn({ err: { message: (err as Error).message } }, 'retention sweep failed'),
      );
    },
    Math.min(config.sweepIntervalMs, 60_000),
  );
  retention.unref();
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
  if (platformKey) writeControlFile(config.dataDir, { url, pid: process.pid, key: platformKey });
  return {
    runtime,
    demo,
    server,
    url,
    logger,
    async close() {
      if (platformKey) removeControlFile(config.dataDir, platformKey);
      clearInterval(sweep);
      clearInterval(rotation);
      clearInterval(retention);
      clearInterval(crawls);
      clearInterval(webhookPoll);
      await crawler.stop();
      await webhooks.stop();
      await listener?.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await limits?.close();
      await runtime.close();
    },
  };
}
