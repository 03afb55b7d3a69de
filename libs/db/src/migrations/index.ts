import { ledger } from './001-ledger';
import { uploadFencing } from './002-upload-fencing';
import { inFlightDeadlineIndex } from './003-in-flight-deadline-index';

export interface Migration {
  version: number;
  name: string;
  /** One SQL text; a non-transactional migration may give several, run one by one. */
  sql: string | string[];
  /**
   * false: run outside a transaction, for statements Postgres refuses inside one (CREATE INDEX
   * CONCURRENTLY, which builds an index without blocking writes). Such a migration must be safe to
   * run again after a failure half-way (IF NOT EXISTS), since it is not rolled back.
   */
  transactional?: boolean;
}

/** Append only: a released migration is never edited, a change is a new migration. */
export const migrations: Migration[] = [
  { version: 1, name: 'ledger', sql: ledger },
  { version: 2, name: 'upload-fencing', sql: uploadFencing },
  { version: 3, name: 'in-flight-deadline-index', sql: inFlightDeadlineIndex, transactional: false },
];
