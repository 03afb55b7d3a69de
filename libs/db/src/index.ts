export { createPool, type PoolOptions } from './pool';
export { migrate, type MigrateOptions } from './migrate';
export { createServiceRoles, grantServiceRoles, serviceRoleName, SERVICE_ROLES, type ServiceRole } from './roles';
export { migrations, type Migration } from './migrations';
export type { Pool, PoolClient } from 'pg';
