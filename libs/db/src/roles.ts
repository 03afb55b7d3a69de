import type { ClientBase } from 'pg';

/**
 * One Postgres role per service, each with only what it does to the ledger (docs/security.md):
 * no service can change the schema, delete a row or touch another service's table. The schema
 * belongs to the role that runs `npm run migrate`; migrate (re)applies these grants on every run.
 *
 * ingress   records calls and marks them published            request: SELECT INSERT UPDATE
 * assembler records calls it received over RabbitMQ, assembles request: SELECT INSERT UPDATE
 *           (and reads the source views: granted by the platform's DBA, docs/data-source-mapping.md)
 * reporter  stores signatures and upload outcomes               request: SELECT UPDATE; upload_attempt: SELECT INSERT
 * monitor   `npm run status`, dashboards                        SELECT on every ledger table
 */
export const SERVICE_ROLES = ['ingress', 'assembler', 'reporter', 'monitor'] as const;
export type ServiceRole = (typeof SERVICE_ROLES)[number];

const GRANTS: Record<ServiceRole, string[]> = {
  ingress: ['GRANT SELECT, INSERT, UPDATE ON ceb179.request TO %I'],
  assembler: ['GRANT SELECT, INSERT, UPDATE ON ceb179.request TO %I'],
  reporter: [
    'GRANT SELECT, UPDATE ON ceb179.request TO %I',
    'GRANT SELECT, INSERT ON ceb179.upload_attempt TO %I',
    'GRANT USAGE ON SEQUENCE ceb179.upload_attempt_id_seq TO %I',
  ],
  monitor: ['GRANT SELECT ON ALL TABLES IN SCHEMA ceb179 TO %I'],
};

/** The role of a service: `<prefix>_<service>`, e.g. ceb179_reporter. */
export function serviceRoleName(prefix: string, service: ServiceRole): string {
  return `${prefix}_${service}`;
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * Grants each service role that exists (created by scripts/postgres-roles.sh) its privileges, and
 * nothing to PUBLIC. Idempotent; run by the schema owner (migrate) after the migrations.
 */
export async function grantServiceRoles(client: ClientBase, prefix: string): Promise<string[]> {
  await client.query('REVOKE ALL ON SCHEMA ceb179 FROM PUBLIC');
  const granted: string[] = [];
  for (const service of SERVICE_ROLES) {
    const role = serviceRoleName(prefix, service);
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (!rowCount) continue;
    await client.query(`GRANT USAGE ON SCHEMA ceb179 TO ${quoteIdent(role)}`);
    for (const grant of GRANTS[service]) await client.query(grant.replace('%I', quoteIdent(role)));
    granted.push(role);
  }
  return granted;
}

/**
 * Creates (or updates the password of) the login roles of the services and the migrate role that
 * owns the schema; run by an administrator with CREATEROLE (scripts/postgres-roles.sh). The
 * service roles get CONNECT only; their table privileges come from grantServiceRoles.
 */
export async function createServiceRoles(
  admin: ClientBase,
  database: string,
  prefix: string,
  passwords: Record<ServiceRole | 'migrate', string>,
): Promise<void> {
  for (const service of [...SERVICE_ROLES, 'migrate'] as const) {
    const role = `${prefix}_${service}`;
    const password = passwords[service];
    const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    // A password is a literal in CREATE/ALTER ROLE (no parameters there): quoted, never logged.
    const literal = `'${password.replace(/'/g, "''")}'`;
    await admin.query(
      `${rowCount ? 'ALTER' : 'CREATE'} ROLE ${quoteIdent(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${literal}`,
    );
    await admin.query(`GRANT CONNECT ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(role)}`);
  }
  // migrate creates the ceb179 schema, so owns it and everything in it.
  await admin.query(`GRANT CREATE ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(`${prefix}_migrate`)}`);
  await admin.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
}
