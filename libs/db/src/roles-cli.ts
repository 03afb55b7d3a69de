import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { loadConfig } from '@ceb179/config';
import { createServiceRoles, SERVICE_ROLES, type ServiceRole } from './roles';

/**
 * scripts/postgres-roles.sh: creates the login role of each service and of migrate (or sets a
 * new password), with an administrator's URL (a role with CREATEROLE). Passwords come from
 * CEB179_POSTGRES_PASSWORD_<ROLE> when set, else are generated; each role's URL is written to
 * ./postgres-urls/<role> (mode 600), to be given to the service as CEB179_DATABASE_URL_FILE.
 * Nothing secret is printed. Then run `npm run migrate` with the migrate role's URL.
 */
async function main(): Promise<void> {
  const config = loadConfig({
    adminUrl: {
      doc: 'Postgres URL of a role with CREATEROLE, database included',
      format: 'postgres-url',
      default: '',
      env: 'CEB179_DATABASE_ADMIN_URL',
      sensitive: true,
    },
    rolePrefix: { doc: 'Role name prefix', format: 'identifier', default: 'ceb179', env: 'CEB179_DATABASE_ROLE_PREFIX' },
  });
  const admin = new URL(config.adminUrl);
  const database = decodeURIComponent(admin.pathname.slice(1)) || 'postgres';
  const passwords = {} as Record<ServiceRole | 'migrate', string>;
  for (const role of [...SERVICE_ROLES, 'migrate'] as const) {
    passwords[role] = process.env[`CEB179_POSTGRES_PASSWORD_${role.toUpperCase()}`] ?? randomBytes(18).toString('base64url');
  }
  const client = new Client({ connectionString: config.adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await createServiceRoles(client, database, config.rolePrefix, passwords);
  } finally {
    await client.end();
  }
  const out = path.resolve('postgres-urls');
  mkdirSync(out, { recursive: true, mode: 0o700 });
  chmodSync(out, 0o700);
  for (const [role, password] of Object.entries(passwords)) {
    const url = new URL(config.adminUrl);
    url.username = `${config.rolePrefix}_${role}`;
    url.password = password;
    writeFileSync(path.join(out, role), url.toString(), { mode: 0o600 });
    process.stdout.write(`role ${config.rolePrefix}_${role}: login set on database ${database}; URL in postgres-urls/${role}\n`);
  }
  process.stdout.write(
    'next: CEB179_DATABASE_URL_FILE=postgres-urls/migrate npm run migrate  (creates the schema and grants each role its privileges)\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`postgres-roles failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
