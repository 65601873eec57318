// `parley` (after ./main.ts): serve, migrate, tenants create / delete / export, users invite, audit verify, sweep, privacy export /
// erase, evidence export / verify, keys rotate / rewrap.
import { Command, Option } from 'commander';
import { PLATFORM_TENANT, isUuid, EmbeddedDbLockedError } from '../db/index.js';
import { commandConfig, ConfigError, loadConfig } from '../config.js';
import { openRuntime, vectorStoreFor } from '../runtime.js';
import { startServer } from '../server.js';
import { createTenant } from '../tenants/service.js';
import { deleteTenantNow } from '../tenants/deletion.js';
import { locallyOrViaServer } from './remote.js';
import { emailText, EVIDENCE_FRAMEWORKS, EvidencePackRequest, PLATFORM_ROLE, ROLES, TenantExportRequest, type Role } from '@parley/protocol';
import { verifyEvidencePack } from '@parley/node';
import { readFileSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { createMailer } from '../people/mailer.js';
import { createInvite } from '../people/service.js';
import { verifyLogs } from '../audit/verify.js';
import { rewrapDataKeys, rotateDataKeys } from '../crypto/rotation.js';
import { asProblem } from '../http/errors.js';
import { newHolderId } from '../jobs/lease.js';
import { runRetentionSweep } from '../jobs/retention.js';
import { stopTracing } from '../telemetry/index.js';
import { ConversationRedactor } from '../ai/pii/redactor.js';
import { eraseDataSubject, exportSubject } from '../lifecycle/service.js';
import { buildEvidencePack } from '../evidence/service.js';
import { exportTenant } from '../lifecycle/tenant-export.js';
import { fieldErrors } from '../http/validate.js';

const cliActor = { type: 'cli' as const, id: process.env.USER ?? null };
// The package's own version: two folders up from this file, in the sources as in the build.
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command('parley')
  .description('Parley support assistant: server and administration')
  .version(version, '-v, --version', 'print the version')
  .showHelpAfterError();

program
  .command('serve')
  .description('run the API (embedded database unless DATABASE_URL is set)')
  .option('--seed-demo', 'create a demo tenant with sample knowledge on first start')
  .action(async (opts: { seedDemo?: boolean }) => {
    const config = loadConfig();
    const running = await startServer(config, { seedDemo: !!opts.seedDemo });
    const base = config.publicUrl;
    const demo = running.demo;
    process.stdout.write(
      demo
        ? [
            '',
            `Parley is running on ${running.url} (${config.databaseUrl ? 'PostgreSQL' : `embedded database in ${config.dataDir}`})`,
            `  Demo host page  ${base}/demo/`,
            `  Console         ${base}/console/`,
            `                  sign in as ${demo.owner.email} with password ${demo.owner.password} (the demo owner; kept in ${demo.file})`,
            `  Docs            ${base}/docs/`,
            `  API health      ${base}/healthz`,
            `  Demo tenant     ${demo.tenantId} (publishable key ${demo.publishableKey}; admin key in ${demo.file})`,
            '',
          ].join('\n')
        : `Parley is running on ${running.url}\n`,
    );
    // Graceful: drain, let requests in flight finish within PARLEY_SHUTDOWN_GRACE_MS, then exit 0; 1 only
    // when connections had to be cut at that bound. A second signal while draining changes nothing.
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      running.logger.info({ signal, graceMs: config.shutdownGraceMs }, 'shutting down');
      // Spans still batched are sent before the process exits.
      running
        .close()
        .then(async ({ cut }) => {
          await stopTracing();
          return cut;
        })
        .then(
          (cut) => process.exit(cut ? 1 : 0),
          (err) => {
            running.logger.error({ err: { message: (err as Error).message } }, 'shutdown failed');
            process.exit(1);
          },
        );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

program
  .command('migrate')
  .description('apply pending database migrations')
  .action(async () => {
    const runtime = await openRuntime(commandConfig(), { migrate: false });
    try {
      const { runMigrations } = await import('../db/index.js');
      const applied = await runMigrations(runtime.db);
      process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'up to date\n');
    } finally {
      await runtime.close();
    }
  });

const tenants = program.command('tenants').description('manage tenants (platform operations, audited)');
tenants
  .command('create')
  .description('create a tenant and print its keys (the secret key is shown once)')
  .requiredOption('--name <name>', 'display name')
  .option('--domain <host...>', 'allowed embedding domain(s): example.com, *.example.com, localhost:3000', [])
  .option('--json', 'print JSON')
  .action(async (opts: { name: string; domain: string[]; json?: boolean }) => {
    const config = commandConfig();
    const input = { name: opts.name, domains: opts.domain };
    const created = await locallyOrViaServer(
      config,
      async () => {
        const runtime = await openRuntime(config);
        try {
          return await createTenant({ db: runtime.db, audit: runtime.audit, env: config.env }, input, { requestId: null, actor: cliActor });
        } finally {
          await runtime.close();
        }
      },
      { method: 'POST', path: '/v1/platform/tenants', body: input },
    );
    if (opts.json) process.stdout.write(`${JSON.stringify(created)}\n`);
    else
      process.stdout.write(
        `tenant          ${created.tenant.id} (${created.tenant.name})\npublishable key ${created.publishableKey}\nsecret key      ${created.secretKey}\n(the secret key is shown only this once)\n`,
      );
  });

tenants
  .command('delete')
  .description(
    'delete a tenant for good: destroy its data keys, remove its vectors, delete every row with its id and write a tombstone to the platform log',
  )
  .argument('<id>', 'tenant id')
  .requiredOption('--now', 'delete at once, without the grace period an owner schedules (required: there is no undo)')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { now: boolean; json?: boolean }) => {
    if (!isUuid(id)) throw new ConfigError('<id>', 'must be a tenant id (uuid)');
    const config = commandConfig();
    const runtime = await openRuntime(config);
    try {
      const deps = { db: runtime.db, audit: runtime.audit, keyring: runtime.keyring, vectors: vectorStoreFor(config) };
      const { tombstone, alreadyDeleted } = await deleteTenantNow(deps, id, { requestId: null, actor: cliActor });
      if (opts.json) process.stdout.write(`${JSON.stringify({ alreadyDeleted, tombstone })}\n`);
      else {
        process.stdout.write(`${alreadyDeleted ? 'already deleted' : 'deleted'} ${tombstone.tenantId} at ${tombstone.deletedAt}\n`);
        process.stdout.write(`${'data keys'.padEnd(28)} ${tombstone.keysDestroyed} destroyed\n`);
        for (const [table, n] of Object.entries(tombstone.counts)) process.stdout.write(`${table.padEnd(28)} ${n} deleted\n`);
      }
    } finally {
      await runtime.close();
    }
  });

tenants
  .command('export')
  .description(
    "export a tenant's workspace (conversations, knowledge, settings, members, audit log with proofs) as a signed archive; never secrets; with the embedded database, stop the server first (or use the API)",
  )
  .argument('<id>', 'tenant id')
  .requiredOption('--out <file>', 'where to write the zip')
  .option('--include-restricted', 'include restricted values (the original values the PII engine took out of messages); needs --reason')
  .option('--reason <text>', 'why restricted values are included (kept in the audit log)')
  .option('--json', 'print JSON')
  .action(async (id: string, opts: { out: string; includeRestricted?: boolean; reason?: string; json?: boolean }) => {
    if (!isUuid(id)) throw new ConfigError('<id>', 'must be a tenant id (uuid)');
    const parsed = TenantExportRequest.safeParse({ includeRestricted: !!opts.includeRestricted, ...(opts.reason ? { reason: opts.reason } : {}) });
    if (!parsed.success) throw new ConfigError('--reason', fieldErrors(parsed.error)[0]!.message);
    const runtime = await openRuntime(commandConfig());
    try {
      // The operator's path: run on the deployment's own database (with its key-encryption key), audited
      // in the tenant's log like an owner's export, reason included.
      const built = await exportTenant(runtime, { tenantId: id, requestId: null, actor: cliActor, role: PLATFORM_ROLE }, parsed.data);
      writeFileSync(opts.out, built.zip);
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ out: opts.out, tenantId: id, manifestSha256: built.manifestSha256, bytes: built.zip.length })}\n`);
      else process.stdout.write(`${opts.out}: tenant export, manifest sha256 ${built.manifestSha256} (in the audit log as tenant.export)\n`);
    } finally {
      await runtime.close();
    }
  });

const users = program.command('users').description('people of a tenant');
users
  .command('invite')
  .description('invite a person to a tenant (the first owner, or automation); prints the single-use link')
  .requiredOption('--tenant <id>', 'tenant id')
  .requiredOption('--email <address>', 'who to invite')
  .addOption(new Option('--role <role>', 'their role').choices([...ROLES]).makeOptionMandatory())
  .option('--json', 'print JSON')
  .action(async (opts: { tenant: string; email: string; role: Role; json?: boolean }) => {
    if (!isUuid(opts.tenant)) throw new ConfigError('--tenant', 'must be a tenant id (uuid)');
    const email = emailText().safeParse(opts.email);
    if (!email.success) throw new ConfigError('--email', 'must be an email address');
    const config = commandConfig();
    const logger = pino({ level: 'warn' }, pino.destination(2));
    const input = { email: email.data, role: opts.role };
    const { invite, url } = await locallyOrViaServer(
      config,
      async () => {
        const runtime = await openRuntime(config);
        try {
          const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.smtpFrom, logger, development: false });
          return await createInvite(
            { db: runtime.db, audit: runtime.audit, keyring: runtime.keyring, config, mailer, logger },
            { requestId: null, actor: cliActor, tenantId: opts.tenant, role: null },
            input,
          );
        } finally {
          await runtime.close();
        }
      },
      {
        method: 'POST',
        path: `/v1/platform/tenants/${opts.tenant}/invites`,
        body: input,
        // The server returns the link only when no SMTP server sent it.
        fromServer: ({ invite }: { invite: Awaited<ReturnType<typeof createInvite>>['invite'] & { inviteUrl: string | null } }) => ({
          invite,
          url: invite.inviteUrl,
        }),
      },
    );
    if (opts.json)
      process.stdout.write(`${JSON.stringify({ inviteUrl: url, inviteId: invite.id, delivery: invite.delivery, expiresAt: invite.expiresAt })}\n`);
    else
      process.stdout.write(
        `invited ${invite.email} as ${invite.role} (${invite.delivery === 'smtp' ? 'emailed' : 'no SMTP server: send the link yourself'})\n${url ?? ''}\n(single use, until ${invite.expiresAt})\n`,
      );
  });

const operators = program.command('operators').description('platform operators: people of the deployment (cross-tenant, audited)');
operators
  .command('invite')
  .description('invite a platform operator; prints the single-use link (operators must enrol a second factor)')
  .requiredOption('--email <address>', 'who to invite')
  .option('--json', 'print JSON')
  .action(async (opts: { email: string; json?: boolean }) => {
    const email = emailText().safeParse(opts.email);
    if (!email.success) throw new ConfigError('--email', 'must be an email address');
    const config = commandConfig();
    const runtime = await openRuntime(config);
    try {
      const mailer = createMailer({
        smtpUrl: config.smtpUrl,
        from: config.smtpFrom,
        logger: pino({ level: 'warn' }, pino.destination(2)),
        development: false,
      });
      const { invite, url } = await createInvite(
        { db: runtime.db, audit: runtime.audit, keyring: runtime.keyring, config, mailer },
        { requestId: null, actor: cliActor, tenantId: PLATFORM_TENANT, role: null },
        { email: email.data, role: PLATFORM_ROLE },
      );
      if (opts.json)
        process.stdout.write(`${JSON.stringify({ inviteUrl: url, inviteId: invite.id, delivery: invite.delivery, expiresAt: invite.expiresAt })}\n`);
      else process.stdout.write(`invited ${invite.email} as a platform operator\n${url}\n(single use, until ${invite.expiresAt})\n`);
    } finally {
      await runtime.close();
    }
  });

const audit = program.command('audit').description('the tamper-evident audit log');
audit
  .command('verify')
  .description('recompute every leaf, node and signed checkpoint (read-only: writes nothing, unless --integrate)')
  .addOption(new Option('--tenant <id>', 'one tenant (default: every log, the platform log included)'))
  .option('--integrate', 'first integrate every entry sequenced so far (gives them indexes and signs checkpoints), so none is reported pending')
  .option('--json', 'print JSON')
  .action(async (opts: { tenant?: string; json?: boolean; integrate?: boolean }) => {
    if (opts.tenant && !isUuid(opts.tenant)) throw new ConfigError('--tenant', 'must be a tenant id (uuid)');
    const config = commandConfig();
    // Read-only: no migrations, no identity or key registration, no platform audit entry.
    const runtime = await openRuntime(config, { readOnly: true });
    try {
      if (opts.integrate) await runtime.audit.integrateNow();
      const results = await verifyLogs(runtime.db, {
        anchor: runtime.audit.publicKey,
        checkpointEvery: config.auditCheckpointEvery,
        ...(opts.tenant ? { tenantId: opts.tenant } : {}),
      }).catch((err: { code?: string }) => {
        if (err.code === '42P01' || err.code === '42703') throw new ConfigError('database', 'is not migrated: run `parley migrate` first');
        throw err;
      });
      const ok = results.every((r) => r.ok);
      const summary = opts.tenant
        ? (({ ok, entries, root, firstBadIndex, pending }) => ({ ok, entries, root, firstBadIndex, pending }))(results[0]!)
        : {
            ok,
            entries: results.reduce((n, r) => n + r.entries, 0),
            pending: results.reduce((n, r) => n + r.pending, 0),
            logs: results.map(({ problems: _p, ...r }) => ({ ...r, platform: r.tenantId === PLATFORM_TENANT })),
          };
      if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else
        for (const r of results)
          process.stdout.write(
            `${r.ok ? 'ok  ' : 'FAIL'} ${r.tenantId} entries=${r.entries}${r.pending ? ` pending=${r.pending}` : ''} root=${r.root}${r.ok ? '' : ` firstBadIndex=${r.firstBadIndex}: ${r.problems[0]}`}\n`,
          );
      process.exitCode = ok ? 0 : 1;
    } finally {
      await runtime.close();
    }
  });

program
  .command('sweep')
  .description(
    "delete expired tokens, old live-feed events, finished crawl jobs and personal data past each tenant's retention windows now (skipped if another instance is sweeping)",
  )
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const runtime = await openRuntime(commandConfig());
    try {
      const r = await runRetentionSweep(runtime, newHolderId(), { now: true });
      if (opts.json) process.stdout.write(`${JSON.stringify(r.ran ? { ran: true, deleted: r.result } : { ran: false })}\n`);
      else if (!r.ran) process.stdout.write('another instance is sweeping right now; nothing done\n');
      else for (const [table, n] of Object.entries(r.result)) process.stdout.write(`${table.padEnd(24)} ${n} deleted\n`);
    } finally {
      await runtime.close();
    }
  });

// Data-subject requests from the operator's shell, with the same service (and audit entry) as the admin API.
// They open the database directly: with the embedded database, stop the server first (or use the API).
const privacy = program.command('privacy').description("data-subject requests: one person's data in a tenant (audited, counts only)");
const subjectOf = (opts: { tenant: string; user?: string; visitor?: string }) => {
  if (!isUuid(opts.tenant)) throw new ConfigError('--tenant', 'must be a tenant id (uuid)');
  if (!opts.user === !opts.visitor) throw new ConfigError('--user', 'give exactly one of --user <verified user id> or --visitor <v_… reference>');
  return opts.user ? { type: 'user' as const, id: opts.user } : { type: 'visitor' as const, id: opts.visitor! };
};
/** The reason, as the API takes it: an export needs one (it puts back every original value); an erasure may give one. */
const reasonOf = (op: 'export' | 'erase', reason: string | undefined) => {
  const r = reason?.trim();
  if (r && (r.length < 10 || r.length > 500)) throw new ConfigError('--reason', 'must be 10 to 500 characters');
  if (op === 'export' && !r)
    throw new ConfigError('--reason', 'an export puts back every original value: say why (a ticket, not the person), kept in the audit log');
  return r;
};
for (const op of ['export', 'erase'] as const) {
  privacy
    .command(op)
    .description(
      op === 'export'
        ? 'print everything stored about one person as JSON (personal values put back)'
        : "delete one person's conversations, vault entries, visitor records and profile",
    )
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--user <id>', 'a verified user id (Sign-In Pro subject)')
    .option('--visitor <ref>', 'a visitor reference (v_…)')
    .option('--reason <text>', `why, kept in the audit log with personal values taken out (${op === 'export' ? 'required' : 'optional'})`)
    .option('--json', 'print JSON (export always does)')
    .action(async (opts: { tenant: string; user?: string; visitor?: string; reason?: string; json?: boolean }) => {
      const reason = reasonOf(op, opts.reason);
      const subject = { ...subjectOf(opts), ...(reason ? { reason } : {}) };
      const runtime = await openRuntime(commandConfig());
      try {
        const ctx = { tenantId: opts.tenant, requestId: null, actor: cliActor };
        const deps = { audit: runtime.audit, keyring: runtime.keyring, redactor: new ConversationRedactor(runtime.keyring) };
        const out: object = await runtime.db.withTenant<object>(opts.tenant, { requestId: null }, (tx) =>
          op === 'export' ? exportSubject(tx, deps, ctx, { ...subject, reason: reason! }) : eraseDataSubject(tx, deps, ctx, subject),
        );
        if (op === 'export' || opts.json) process.stdout.write(`${JSON.stringify(out, null, op === 'export' ? 2 : 0)}\n`);
        else
          for (const [kind, n] of Object.entries((out as { deleted: Record<string, number> }).deleted))
            process.stdout.write(`${kind.padEnd(14)} ${n} deleted\n`);
      } finally {
        await runtime.close();
      }
    });
}

// Evidence packs: built with the same service (and audit entry) as the admin API; verified offline with
// @parley/node's verifier, needing nothing but the pack and the deployment's verifier key.
const evidence = program.command('evidence').description("signed evidence packs for auditors (a tenant's audit proofs, policies, keys, checks)");
evidence
  .command('export')
  .description('build a signed evidence pack (zip) for one tenant; with the embedded database, stop the server first (or use the API)')
  .requiredOption('--tenant <id>', 'tenant id')
  .addOption(new Option('--framework <name>', 'the framework the report maps to').choices(EVIDENCE_FRAMEWORKS).makeOptionMandatory())
  .requiredOption('--out <file>', 'where to write the zip')
  .option('--from <time>', 'start of the period (ISO 8601; default 90 days ago)')
  .option('--to <time>', 'end of the period (ISO 8601; default now)')
  .action(async (opts: { tenant: string; framework: string; out: string; from?: string; to?: string }) => {
    if (!isUuid(opts.tenant)) throw new ConfigError('--tenant', 'must be a tenant id (uuid)');
    const now = Date.now();
    const parsed = EvidencePackRequest.safeParse({
      framework: opts.framework,
      from: opts.from ?? new Date(now - 90 * 86_400_000).toISOString(),
      to: opts.to ?? new Date(now).toISOString(),
    });
    if (!parsed.success) {
      const e = fieldErrors(parsed.error)[0]!;
      throw new ConfigError(`--${e.path.slice(1) || 'from'}`, e.message);
    }
    const runtime = await openRuntime(commandConfig());
    try {
      const pack = await buildEvidencePack(runtime, { tenantId: opts.tenant, requestId: null, actor: cliActor }, parsed.data);
      writeFileSync(opts.out, pack.zip);
      process.stdout.write(`${opts.out}: evidence pack, manifest sha256 ${pack.manifestSha256} (in the audit log as evidence.pack)\n`);
    } finally {
      await runtime.close();
    }
  });
evidence
  .command('verify')
  .description('check every signature, hash and proof of an evidence pack or a tenant export offline; exit 0 when all hold, 1 otherwise')
  .argument('<pack>', 'the zip')
  .requiredOption('--key <verifier key>', 'the deployment verifier key, as GET /v1/audit/verifier-key returns it')
  .option('--json', 'print JSON')
  .action((file: string, opts: { key: string; json?: boolean }) => {
    const result = verifyEvidencePack(readFileSync(file), opts.key);
    const { manifest: _m, ...summary } = result;
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...summary, tenantId: result.manifest?.tenantId ?? null })}\n`);
    else if (result.ok)
      process.stdout.write(
        `ok   ${file}: ${result.kind === 'tenant-export' ? 'tenant export' : 'evidence pack'}, tenant ${result.manifest!.tenantId}, ${result.manifest!.files.length} files, ${result.manifest!.audit.entries} audit entries proved\n` +
          `     online: the tenant's audit log should hold ${result.kind === 'tenant-export' ? 'a tenant.export' : 'an evidence.pack'} entry with manifestSha256 ${result.manifestSha256}\n`,
      );
    else for (const f of result.failures) process.stdout.write(`FAIL ${f.file}: ${f.reason}\n`);
    process.exitCode = result.ok ? 0 : 1;
  });

const keys = program.command('keys').description('tenant data keys (platform operations, audited)');
keys
  .command('rotate')
  .description('add a new data key version, re-seal stored secrets under it and retire unused versions')
  .addOption(new Option('--tenant <id>', 'one tenant (default: every tenant that has a data key)'))
  .option('--json', 'print JSON')
  .action(async (opts: { tenant?: string; json?: boolean }) => {
    if (opts.tenant && !isUuid(opts.tenant)) throw new ConfigError('--tenant', 'must be a tenant id (uuid)');
    const runtime = await openRuntime(commandConfig());
    try {
      const ids = opts.tenant
        ? [opts.tenant]
        : await runtime.db.withPlatform(
            { requestId: null, actor: cliActor, reason: 'list tenants for data key rotation', action: 'data_key.rotate.plan' },
            async (tx) =>
              (await tx.query<{ tenant_id: string }>('SELECT DISTINCT tenant_id FROM tenant_data_keys ORDER BY tenant_id')).rows.map(
                (r) => r.tenant_id,
              ),
          );
      const results = [];
      for (const id of ids) {
        const r = await runtime.db.withPlatform(
          {
            requestId: null,
            actor: cliActor,
            reason: 'data key rotation requested by an operator',
            action: 'data_key.rotate',
            target: { type: 'tenant', id },
          },
          (tx) => rotateDataKeys(tx, id, { keyring: runtime.keyring, audit: runtime.audit, requestId: null, actor: cliActor }),
        );
        results.push({ tenantId: id, ...r! });
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(results)}\n`);
      else if (!results.length) process.stdout.write('no tenant has a data key yet\n');
      else
        for (const r of results) {
          const resealed = Object.values(r.resealed).reduce((n, c) => n + c, 0);
          process.stdout.write(
            `${r.failed ? 'WARN' : 'ok  '} ${r.tenantId} v${r.fromVersions.join(',v') || '-'} -> v${r.toVersion} resealed=${resealed} retired=${r.retired.length} failed=${r.failed}\n`,
          );
        }
      process.exitCode = results.some((r) => r.failed) ? 1 : 0;
    } finally {
      await runtime.close();
    }
  });
keys
  .command('rewrap')
  .description('re-wrap every data key under the current key encryption key (after moving to KMS or a new master key)')
  .option('--json', 'print JSON')
  .action(async (opts: { json?: boolean }) => {
    const runtime = await openRuntime(commandConfig());
    try {
      const r = await runtime.db.withPlatform(
        {
          requestId: null,
          actor: cliActor,
          reason: 'key encryption key change',
          action: 'data_key.rewrap',
          metadata: { toKekId: runtime.keyring.kek.id },
        },
        (tx) => rewrapDataKeys(tx, { keyring: runtime.keyring, audit: runtime.audit, requestId: null, actor: cliActor }),
      );
      const missing = Object.entries(r.missing);
      if (opts.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else {
        process.stdout.write(`rewrapped ${r.rewrapped} data key(s) under ${runtime.keyring.kek.id}\n`);
        if (r.refused) process.stdout.write(`refused   ${r.refused} (altered or copied rows: investigate)\n`);
        for (const [id, n] of missing) process.stdout.write(`missing   ${n} wrapped by ${id}: set PARLEY_PREVIOUS_MASTER_KEY to that key\n`);
      }
      process.exitCode = r.refused || missing.length ? 1 : 0;
    } finally {
      await runtime.close();
    }
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof EmbeddedDbLockedError) {
    process.stderr.write(`parley: ${err.message}\n`);
    process.exit(2);
  }
  const problem = asProblem(err);
  if (problem) {
    const details = (problem.extra.errors ?? []).map((e) => `\n  ${e.path || '/'}: ${e.message}`).join('');
    process.stderr.write(`parley: ${problem.message}${details}\n`);
    process.exit(1);
  }
  const e = err as { message?: string; status?: number };
  process.stderr.write(`parley: ${e.message ?? String(err)}\n`);
  process.exit(1);
});
