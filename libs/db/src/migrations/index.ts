import { ledger } from './001-ledger';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration is never edited, a change is a new migration. */
export const migrations: Migration[] = [{ version: 1, name: 'ledger', sql: ledger }];
