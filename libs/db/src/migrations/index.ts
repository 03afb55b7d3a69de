import { ledger } from './001-ledger';
import { uploadFencing } from './002-upload-fencing';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Append only: a released migration is never edited, a change is a new migration. */
export const migrations: Migration[] = [
  { version: 1, name: 'ledger', sql: ledger },
  { version: 2, name: 'upload-fencing', sql: uploadFencing },
];
