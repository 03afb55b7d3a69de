import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AppError } from '@ceb179/errors';
import { SoftCard, type CardAlgorithm, type SoftCardJSON } from '../domain/soft-card';

export function readCardFile(path: string): SoftCard {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new AppError(code === 'ENOENT' ? 'NOT_FOUND' : 'CONFIG', `card file ${path}: cannot read (${code})`, { cause: error });
  }
  let json: SoftCardJSON;
  try {
    json = JSON.parse(text) as SoftCardJSON;
  } catch (error) {
    throw new AppError('CONFIG', `card file ${path}: not JSON`, { cause: error });
  }
  try {
    return SoftCard.fromJSON(json);
  } catch (error) {
    throw new AppError('CONFIG', `card file ${path}: ${error instanceof AppError ? error.reason : String(error)}`, { cause: error });
  }
}

/**
 * The demo's shared card: the first start mints it and writes it, later starts (and the
 * customs simulator, which registers its certificate) read the same file.
 */
export function loadOrCreateCard(path: string, fresh: { algorithm: CardAlgorithm; pin: string }): { card: SoftCard; created: boolean } {
  try {
    return { card: readCardFile(path), created: false };
  } catch (error) {
    if (!(error instanceof AppError && error.code === 'NOT_FOUND')) throw error;
  }
  const card = SoftCard.create(fresh);
  mkdirSync(dirname(path), { recursive: true });
  // Written whole then renamed, so a reader polling for the file never sees half of it;
  // owner-only because it holds the private key and the PIN.
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(card.toJSON(), null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
  return { card, created: true };
}
