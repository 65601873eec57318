#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised: the login role requests use. Parley's first
# migration creates parley_app without a login (and keeps a role that already exists), so creating it here
# with a password is what lets DATABASE_URL log in as it. Row-level security applies to it: no superuser,
# no BYPASSRLS, owns nothing.
set -eu
: "${PARLEY_APP_DB_PASSWORD:?set PARLEY_APP_DB_PASSWORD in deploy/postgres.env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" -v app_password="$PARLEY_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE parley_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
SQL
