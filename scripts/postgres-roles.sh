#!/usr/bin/env bash
# Creates (or updates) one Postgres login role per service - ingress, assembler, reporter, monitor
# (npm run status) - and the migrate role that owns the ceb179 schema (docs/security.md).
#
#   CEB179_DATABASE_ADMIN_URL=postgres://admin@db:5432/ceb179 bash scripts/postgres-roles.sh
#   CEB179_DATABASE_URL_FILE=postgres-urls/migrate npm run migrate    # schema + grants
#
# Passwords come from CEB179_POSTGRES_PASSWORD_<ROLE> (e.g. ..._REPORTER) when set, else are
# generated. Each role's URL is written to ./postgres-urls/<role> with mode 600 (give it to the
# service as CEB179_DATABASE_URL_FILE); nothing secret is printed. CEB179_DATABASE_ROLE_PREFIX
# (default ceb179) names the roles <prefix>_<role>. The assembler's role also needs SELECT on the
# source views (docs/data-source-mapping.md): grant it in the platform's schema.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077
node libs/db/dist/roles-cli.js
