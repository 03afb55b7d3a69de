export { createPool, type PoolOptions } from './pool';
export { migrate } from './migrate';
export { migrations, type Migration } from './migrations';
export type { Pool, PoolClient } from 'pg';
