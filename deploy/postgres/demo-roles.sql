-- docker-compose.yml runs this once, when its Postgres volume is created (docker-entrypoint-initdb.d).
-- Development and demo only: one login role per service, each password its name, like the RabbitMQ
-- users of deploy/rabbitmq/definitions.json. Production roles get real secrets from
-- scripts/postgres-roles.sh. Table privileges are granted by `npm run migrate` (libs/db/src/roles.ts),
-- run as ceb179_migrate, which owns the ceb179 schema.
CREATE ROLE ceb179_migrate LOGIN PASSWORD 'ceb179_migrate';
CREATE ROLE ceb179_ingress LOGIN PASSWORD 'ceb179_ingress';
CREATE ROLE ceb179_assembler LOGIN PASSWORD 'ceb179_assembler';
CREATE ROLE ceb179_reporter LOGIN PASSWORD 'ceb179_reporter';
CREATE ROLE ceb179_monitor LOGIN PASSWORD 'ceb179_monitor';
GRANT CREATE ON DATABASE ceb179 TO ceb179_migrate;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
-- The demo's source tables (schema ceb_source) are seeded by the migrate role: the assembler reads them.
ALTER DEFAULT PRIVILEGES FOR ROLE ceb179_migrate GRANT USAGE ON SCHEMAS TO ceb179_assembler;
ALTER DEFAULT PRIVILEGES FOR ROLE ceb179_migrate GRANT SELECT ON TABLES TO ceb179_assembler;
