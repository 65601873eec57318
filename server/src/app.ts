// The composition root: the Express app and everything it is built from.
import express, { Router } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { providerRoutes } from './ai/providers/routes.js';
import type { AuditLog } from './audit/log.js';
import { RefusalLog } from './audit/refusals.js';
import { auditPublicRoutes, auditRoutes } from './audit/routes.js';
import type { Config } from './config.js';
import { vectorStoreFor, type Heard } from './runtime.js';
import type { Keyring } from './crypto/keyring.js';
import type { Db } from './db/index.js';
import type { Tx } from './db/types.js';
import { jsonBody } from './http/body.js';
import { requireHost } from './http/client-error.js';
import { errorHandler, notFound } from './http/errors.js';
import { openApiRoute } from './http/openapi.js';
import { ownPaths } from './http/own-paths.js';
import { databaseLimitStores, type LimitStores } from './http/limit-store.js';
import { RateLimits } from './http/rate-limit.js';
import { invalidatesOnWrite } from './http/invalidate.js';
import { requestId } from './http/request-id.js';
import { route } from './http/routes.js';
import { wellKnownRoutes } from './http/wellknown.js';
import { adminAuth, onlyReads, secretKeyAuth } from './tenants/auth.js';
import { createMailer, type Mailer } from './people/mailer.js';
import { authRoutes, peopleAdminRoutes, type PeopleRouteDeps } from './people/routes.js';
import { mfaRoutes } from './people/mfa/routes.js';
import { MemberSessions } from './people/sessions.js';
import { SsoRegistry } from './people/sso.js';
import { ssoOidcRoutes } from './people/sso/oidc-routes.js';
import { samlRoutes } from './people/sso/saml-routes.js';
import { SignInThrottle } from './people/throttle.js';
import { platformRoutes } from './platform/routes.js';
import { tenantAdminRoutes } from './tenants/routes.js';
import { KnowledgeAnswerer } from './ai/answerer.js';
import type { Retrieve } from './knowledge/retrieve.js';
import { PROVIDER_LIMITS, providerModels, type ModelFor } from './ai/models.js';
import { lifecycleRoutes } from './lifecycle/routes.js';
import { tenantDeletionRoutes } from './tenants/deletion-routes.js';
import { evidenceRoutes } from './evidence/routes.js';
import { approvalRoutes } from './approvals/routes.js';
import type { ApprovalDeps } from './approvals/service.js';
import { ConversationRedactor } from './ai/pii/redactor.js';
import { ConversationBus } from './conversations/bus.js';
import { ConversationHub } from './conversations/hub.js';
import type { TurnDeps } from './conversations/turn.js';
import { Drain } from './http/drain.js';
import { deriveSeed } from './crypto/derive.js';
import { ed25519FromSeed } from './crypto/ed25519.js';
import { handoffRoutes } from './handoff/routes.js';
import { inboxRoutes } from './inbox/routes.js';
import { InboxHub } from './inbox/stream.js';
import { TypingThrottle } from './conversations/typing.js';
import { settingsRoutes } from './tenants/settings-routes.js';
import { staticRoutes } from './static/routes.js';
import { RetrievalInputsCache } from './knowledge/inputs-cache.js';
import { KnowledgeRetrieval } from './knowledge/retrieval.js';
import { providerEmbeddings, tenantEmbeddings, type EmbeddingModelFor } from './ai/embeddings.js';
import type { VectorStore } from './knowledge/vectors/store.js';
import { knowledgeRoutes } from './knowledge/routes.js';
import { JwksCache } from './identity/jwks.js';
import { CrawlWorker } from './knowledge/jobs.js';
import { newHolderId } from './jobs/lease.js';
import { identityAdminRoutes } from './identity/routes.js';
import { Outbound } from './outbound/outbound.js';
import { answersRoutes } from './answers/routes.js';
import { reportsRoutes } from './reports/routes.js';
import { WidgetFrontCache } from './widget/front-cache.js';
import { SecretKeyCache } from './tenants/key-cache.js';
import { widgetRoutes } from './widget/routes.js';
import { webhookRoutes } from './webhooks/routes.js';
import { WebhookWorker } from './webhooks/worker.js';
import { widgetLimits } from './widget/limits.js';
import { WidgetTokens } from './widget/tokens.js';
import { Metrics } from './metrics/registry.js';
import { metricsRoutes } from './metrics/routes.js';

export interface AppDeps {
  config: Config;
  db: Db;
  audit: AuditLog;
  logger: Logger;
  keyring: Keyring;
  /** Builds provider models; tests put the ai SDK's test models here. */
  modelFor?: ModelFor;
  /** The demo tenant's publishable key, for the demo host page. */
  demoPublishableKey?: string;
  /** Retrieval over the tenant's knowledge, as the tenant configured it, unless tests give another. */
  retrieve?: Retrieve;
  /** Builds embedding models; tests put the ai SDK's test models here. */
  embeddingModelFor?: EmbeddingModelFor;
  /** Where embeddings live: from the config (Pinecone or pgvector) unless tests give another. */
  vectors?: VectorStore;
  /** Requests to tenant-supplied URLs: from the config unless tests give another (e.g. a fake resolver). */
  outbound?: Outbound;
  /** Outgoing email: from the config (SMTP or the log) unless tests give another. */
  mailer?: Mailer;
  /** Shutdown draining; one of its own unless given. */
  drain?: Drain;
  /** The per-start platform key of the control file (platform/control.ts): the CLI's way in while the embedded database is held. */
  platformKey?: string;
  /**
   * Where rate-limit counters live. Required when REDIS_URL is set (redisLimitStores, connected before
   * the app is built); otherwise PostgreSQL, or memory for the embedded database.
   */
  limits?: LimitStores;
}

/** Prefixes whose requests are counted per session or per key further on (and per address if they fail). */
const AUTHENTICATED_PREFIX = /^\/v1\/(?:admin|answers|widget)(?:\/|$)/i;

/** Sign-In Pro JWKS documents are small and should answer fast: a visitor is waiting. */
const JWKS_LIMITS = { maxBytes: 64 * 1024, timeoutMs: 3000, connectTimeoutMs: 2000, redirect: 'follow', maxRedirects: 2 } as const;

export function createApp(deps: AppDeps): express.Express {
  const { config, db, logger } = deps;
  if (config.redisUrl && !deps.limits) throw new Error('REDIS_URL is set: open redisLimitStores and pass them as `limits`');
  const rateLimits = new RateLimits(deps.limits ?? databaseLimitStores(db), logger);
  const address = rateLimits.perAddress(config.rateLimitPerMinute);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  app.set('json spaces', 0);
  // No ETag on API answers: they are per caller and the console fetches with no-store, so none was ever
  // revalidated, and each cost a SHA-1 of the body. Static files carry their own (static/routes.ts).
  app.set('etag', false);

  // Shutdown draining (server.ts starts it on SIGTERM): readiness, connections, live streams.
  const drain = deps.drain ?? new Drain();
  app.locals.drain = drain;
  app.use(requestId);
  app.use(requireHost);
  app.use(drain.closeConnections());
  const metrics = new Metrics(db, config.metricsTenantLabels);
  deps.audit.integrator?.observe(metrics.auditIntegrated);
  app.locals.metrics = metrics;
  app.use(metrics.http);
  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    // Path only: query strings can carry publishable keys and search terms. Read now: by the time the
    // response finishes, a router has cut its own prefix off req.path.
    const path = req.path;
    res.on('finish', () => {
      logger.info(
        {
          requestId: req.id,
          ...(req.upstreamId ? { upstreamRequestId: req.upstreamId } : {}),
          method: req.method,
          path,
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  });
  app.use(
    helmet({
      contentSecurityPolicy: { directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"] } },
      crossOriginResourcePolicy: { policy: 'same-origin' },
      strictTransportSecurity: config.publicUrl.startsWith('https://') ? { maxAge: 63072000, includeSubDomains: true, preload: true } : false,
    }),
  );
  // Health checks and the widget's own files come before the per-address limit: a load balancer polls them,
  // and many visitors share one address (an office, a carrier NAT). Static files are cached and cheap.
  app.use(ownPaths(wellKnownRoutes({ db, publicUrl: config.publicUrl, securityContact: config.securityContact, drain })));
  app.use(staticRoutes({ demoPublishableKey: deps.demoPublishableKey }));
  app.use(address.unless((req) => AUTHENTICATED_PREFIX.test(req.path)));
  // Behind the per-address limit: a scraper polls a few times a minute, a token guesser far more.
  app.use(ownPaths(metricsRoutes({ metrics, token: config.metricsToken })));
  // SAML's ACS takes the IdP's urlencoded form (people/sso/saml-routes.ts parses it, bounded): mounted
  // before the JSON-only body parser; its routes are added below, once the people deps exist.
  const samlAuth = Router();
  app.use('/v1/auth/sso/saml', samlAuth);
  app.use(jsonBody(config.bodyLimitBytes));

  const v1 = Router();
  route(v1, '/openapi.json', { get: openApiRoute(config.publicUrl) });
  v1.use(ownPaths(auditPublicRoutes({ db, audit: deps.audit })));

  const { keyring } = deps;
  // People: console sessions, sign-in and the team (people/).
  const sessions = new MemberSessions(
    { db, audit: deps.audit },
    ed25519FromSeed(deriveSeed(config.signingSeed, 'console-session')),
    config.publicUrl,
  );
  const people: PeopleRouteDeps = {
    db,
    audit: deps.audit,
    keyring,
    config,
    sessions,
    mailer: deps.mailer ?? createMailer({ smtpUrl: config.smtpUrl, from: config.smtpFrom, logger, development: config.env === 'development' }),
    throttle: new SignInThrottle(db),
    mfaKeys: ed25519FromSeed(deriveSeed(config.signingSeed, 'mfa-step')),
    logger,
    sso: new SsoRegistry(),
  };
  app.locals.people = people;
  // Refusals anyone can cause (widget origins, SSO callbacks) are audited once per window and counted.
  const refusals = new RefusalLog(deps.audit, { windowSeconds: config.refusalAuditWindowSeconds, maxSubjects: config.refusalAuditSubjects });
  const saml = samlRoutes({ ...people, refusals });
  people.sso.register(saml.protocol);
  samlAuth.use(saml.auth);
  v1.use('/auth', authRoutes(people));
  const mfa = mfaRoutes(people);
  v1.use('/auth', mfa.auth);
  // What every widget page view reads (key → tenant and origins, widget settings), for a few seconds.
  // Any change through the admin or platform API drops the tenant's entries (every tenant's, for the
  // platform) before its response leaves, so this instance never serves what it has overwritten; others'
  // changes drop them by the database's notices (runtime.ts listenForChanges).
  const widgetCache = new WidgetFrontCache(config.widgetCacheSeconds * 1000);
  // Resolved secret keys, the same way, while this instance hears the database's key notices (key-cache.ts).
  const keyCache = new SecretKeyCache(config.keyCacheSeconds * 1000);
  // What a knowledge search reads before it scores, the same way, while this instance hears the database's
  // retrieval notices (knowledge/inputs-cache.ts).
  const retrievalInputs = new RetrievalInputsCache(config.keyCacheSeconds * 1000);
  v1.use(
    '/platform',
    invalidatesOnWrite(() => {
      widgetCache.invalidate();
      keyCache.invalidate();
      retrievalInputs.invalidate();
    }),
  );
  v1.use('/platform', platformRoutes({ ...people, platformKey: deps.platformKey }));

  const admin = Router();
  admin.use(adminAuth(db, keyCache, sessions, new URL(config.publicUrl).origin));
  admin.use(
    invalidatesOnWrite((req) => {
      if (onlyReads(req)) return;
      widgetCache.invalidate(req.admin!.tenantId);
      keyCache.invalidate(req.admin!.tenantId);
      retrievalInputs.invalidate(req.admin!.tenantId);
    }),
  );
  admin.use(rateLimits.limiter('admin', config.rateLimitPerMinute, (req) => req.admin!.keyId ?? req.admin!.member!.id));
  const tenantDeps = { db, audit: deps.audit, env: config.env };
  // The admin API's routers, mounted together at the end (http/own-paths.ts): a request enters only those
  // that serve its path's first segment.
  const adminRoutes: Router[] = [peopleAdminRoutes(people), mfa.admin, saml.admin];
  // The one way to a tenant-supplied URL (see outbound/): crawls, provider base URLs, JWKS, webhooks.
  const outbound = deps.outbound ?? new Outbound({ env: config.env, allow: config.outboundAllow });
  const providerFetch = outbound.fetcher(PROVIDER_LIMITS);
  const oidc = ssoOidcRoutes({ ...people, outbound, refusals });
  people.sso.register(oidc.protocol);
  adminRoutes.push(oidc.admin);
  v1.use(ownPaths(oidc.auth));
  adminRoutes.push(tenantAdminRoutes(tenantDeps));
  adminRoutes.push(providerRoutes({ ...tenantDeps, keyring, outbound }));
  adminRoutes.push(auditRoutes({ db, audit: deps.audit }));
  adminRoutes.push(identityAdminRoutes({ ...tenantDeps, keyring, outbound }));
  // Fed by the routes of this process and, on PostgreSQL, by the other instances (server.ts listens).
  const bus = new ConversationBus();
  // What hears the changes other instances commit, for whoever starts listening (runtime.ts listenForChanges).
  app.locals.heard = { bus, keys: keyCache, widget: widgetCache, retrieval: retrievalInputs } satisfies Heard;
  const redactor = new ConversationRedactor(keyring);
  const typing = new TypingThrottle();
  // Live streams (widget and inbox) share one cap per tenant.
  const streams = new ConversationHub({
    db,
    bus,
    redactor,
    limits: { perVisitor: config.sseStreamsPerVisitor, perTenant: config.sseStreamsPerTenant, perAddress: config.sseStreamsPerAddress },
  });
  adminRoutes.push(settingsRoutes({ db, audit: deps.audit }));
  adminRoutes.push(lifecycleRoutes({ db, audit: deps.audit, keyring, redactor }));
  adminRoutes.push(tenantDeletionRoutes({ db, audit: deps.audit, mailer: people.mailer, logger }));
  adminRoutes.push(evidenceRoutes({ db, audit: deps.audit }));
  adminRoutes.push(handoffRoutes({ db, audit: deps.audit, keyring, bus, redactor, typing }));
  adminRoutes.push(
    inboxRoutes({
      db,
      audit: deps.audit,
      keyring,
      bus,
      streams,
      inbox: new InboxHub({ db, bus, keyring, pollMs: config.inboxPollMs }),
      heartbeatMs: config.sseHeartbeatMs,
      credentials: keyCache,
      drain,
    }),
  );
  adminRoutes.push(reportsRoutes({ db }));
  const vectors = deps.vectors ?? vectorStoreFor(config);
  const retrieval = new KnowledgeRetrieval({
    db,
    audit: deps.audit,
    vectors,
    embeddings: tenantEmbeddings(keyring, deps.embeddingModelFor ?? providerEmbeddings(providerFetch)),
    inputs: retrievalInputs,
    memory: {
      maxBytes: config.searchMemoryBytes,
      onError: (tenantId, err) => logger.warn({ err, tenantId }, 'search index: could not load a tenant index into memory; searching in SQL'),
    },
  });
  // Crawl jobs queued here start on this instance at once; server.ts also polls, to resume the jobs of
  // an instance that died.
  const crawler = new CrawlWorker({
    db,
    audit: deps.audit,
    config,
    holder: newHolderId(),
    logger,
    vectors,
    outbound,
    embedPending: (tenantId, requestId) => retrieval.embedPending(tenantId, requestId),
  });
  app.locals.crawler = crawler;
  adminRoutes.push(webhookRoutes({ db, audit: deps.audit, keyring, outbound }));
  // The approval rail: action definitions, decisions, and (server.ts) its sweep.
  const approvals: ApprovalDeps = {
    db,
    audit: deps.audit,
    keyring,
    outbound,
    bus,
    notifier: { mailer: people.mailer, approvalsUrl: `${config.publicUrl}/console/#approvals` },
  };
  app.locals.approvals = approvals;
  adminRoutes.push(approvalRoutes(approvals));
  // Deliveries enqueued by a commit on this instance go out at once; server.ts starts it and also polls
  // (retries that come due, and the work of an instance that died).
  app.locals.webhooks = new WebhookWorker({
    db,
    keyring,
    outbound,
    audit: deps.audit,
    mailer: people.mailer,
    logger,
    holder: newHolderId(),
    schedule: config.webhookRetrySchedule,
  });
  adminRoutes.push(
    knowledgeRoutes({
      ...tenantDeps,
      retrieval,
      vectors,
      outbound,
      quota: config.knowledgeQuota,
      maxPageBytes: config.crawl.maxPageBytes,
      crawler,
    }),
  );
  admin.use(ownPaths(...adminRoutes));
  v1.use('/admin', admin);
  // The admin routes with their guards, for the route × role matrix test.
  app.locals.adminRouter = admin;

  const answerer = new KnowledgeAnswerer({
    db,
    audit: deps.audit,
    keyring,
    retrieve: deps.retrieve ?? ((tx, query, limit, requestId) => retrieval.searchIn(tx, query, limit, requestId)),
    ...(deps.retrieve ? {} : { prefetch: (tx: Tx) => retrieval.prefetch(tx) }),
    modelFor: deps.modelFor ?? providerModels(providerFetch),
    observe: metrics.answered,
    approvals,
  });
  const widgetTokens = new WidgetTokens(ed25519FromSeed(deriveSeed(config.signingSeed, 'widget-token')), config.publicUrl);
  v1.use(
    '/widget',
    widgetRoutes({
      ...tenantDeps,
      refusals,
      keyring,
      tokens: widgetTokens,
      limits: widgetLimits(rateLimits, address, widgetTokens, {
        session: config.widgetSessionRateLimit,
        tenant: config.widgetTenantRateLimit,
        address: config.widgetAddressRateLimit,
        // A visitor's browser preflights each URL it calls; see widget/limits.ts.
        preflight: 10 * config.rateLimitPerMinute,
      }),
      bus,
      streams,
      redactor,
      answerer,
      claimMs: config.answerClaimMs,
      drain,
      typing,
      jwks: new JwksCache(outbound.fetcher(JWKS_LIMITS)),
      logger,
      cache: widgetCache,
      approvals,
    }),
  );
  // The API channel: secret keys, like the admin API, but asking rather than administering.
  v1.use(
    '/answers',
    secretKeyAuth(db, keyCache),
    rateLimits.limiter('answers', config.rateLimitPerMinute, (req) => req.admin!.keyId!),
  );
  v1.use(ownPaths(answersRoutes({ db, audit: deps.audit, bus, redactor, answerer, claimMs: config.answerClaimMs, logger })));
  // What the turn sweeper (server.ts) needs to finish the turns of an instance that died.
  app.locals.turns = { db, audit: deps.audit, bus, redactor, answerer, claimMs: config.answerClaimMs } satisfies TurnDeps;
  app.use('/v1', v1);

  app.use(notFound);
  app.use(address.onError);
  app.use(errorHandler(logger));
  return app;
}
