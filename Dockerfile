# Parley's server image: `parley serve` with the widget, console and docs it serves.
#
#   docker build -t parley .
#   docker run --read-only -e PARLEY_ENV=development -p 8787:8787 -v parley-data:/data parley   # a trial: one instance, embedded database
#
# The image runs as PARLEY_ENV=production, which needs the keys, an https:// PARLEY_PUBLIC_URL and DATABASE_URL;
# without them it refuses to start, naming the setting. Trying it on the embedded database is said out loud.
# Production runs N instances over PostgreSQL behind a proxy: see compose.yaml and the "Operating Parley"
# guide. Secrets (keys, database passwords) come from the environment at run time, never from this file.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- manifests: the lockfile and every workspace's package.json (npm ci wants them all to match the
# lockfile), so a source change does not invalidate the installs below.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /app
COPY package.json package-lock.json ./
COPY protocol/package.json protocol/
COPY server/package.json server/
COPY sdk-node/package.json sdk-node/
COPY sdk-browser/package.json sdk-browser/
COPY widget/package.json widget/
COPY console/package.json console/
COPY bench/package.json bench/
COPY e2e/package.json e2e/
COPY docs-site/package.json docs-site/
COPY examples/express-host/package.json examples/express-host/
COPY examples/nextjs-app/package.json examples/nextjs-app/
COPY examples/nextjs-app/no-sharp examples/nextjs-app/no-sharp
COPY examples/static-page/package.json examples/static-page/

# ---- build: every workspace's dependencies, then the packages the server serves (turbo builds what they
# depend on first). Install scripts stay off here: esbuild and turbo find their platform binaries without
# them, and argon2, the one that needs its own (package.json allowScripts), is installed in the next stage.
FROM manifests AS build
ENV TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build -- --filter=@parley/server --filter=@parley/widget --filter=@parley/console --filter=@parley/docs-site

# ---- deps: the server's production dependencies only, from the same lockfile (no dev tools). The one
# native module, argon2, then runs its own install step: it tests its bundled prebuilt binary on this node
# and compiles from source only when that fails (a prebuilt that loads but crashes while hashing was seen
# on a distribution's own node build); a slim image has no compiler, so such a case fails here, not at run time.
FROM manifests AS deps
RUN npm ci --omit=dev --workspace=@parley/server --ignore-scripts --no-audit --no-fund \
 && npm rebuild argon2 \
 && node -e "require('argon2').hash('probe').then(() => process.exit(0), () => process.exit(1))" \
 && npm cache clean --force

# ---- runtime: node, the production node_modules and built output; nothing else from the source tree.
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PARLEY_ENV=production \
    HOST=0.0.0.0 \
    PORT=8787 \
    PARLEY_DATA_DIR=/data
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/package.json ./
COPY --from=build /app/protocol/package.json protocol/
COPY --from=build /app/protocol/dist protocol/dist
COPY --from=build /app/server/package.json server/
COPY --from=build /app/server/bin server/bin
COPY --from=build /app/server/dist server/dist
COPY --from=build /app/server/migrations server/migrations
COPY --from=build /app/widget/dist widget/dist
COPY --from=build /app/console/dist console/dist
COPY --from=build /app/docs-site/dist docs-site/dist
COPY --from=build /app/examples/host-page examples/host-page
COPY --from=build /app/examples/demo-knowledge examples/demo-knowledge
# The data folder holds the embedded database (PGlite) and development keys: only a single instance uses
# it; with DATABASE_URL set it stays empty. Everything else is read-only (run with --read-only).
RUN mkdir -p /data && chown 1000:1000 /data
VOLUME ["/data", "/tmp"]
# The base image's unprivileged `node` user, by number so an orchestrator can check runAsNonRoot.
USER 1000:1000
EXPOSE 8787
# Ready means the database answers; node's own fetch, since the slim image has no curl.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8787)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# parley serve handles SIGTERM itself (stops accepting, finishes in-flight requests, closes the pool).
ENTRYPOINT ["node", "/app/server/bin/parley.js"]
CMD ["serve"]
