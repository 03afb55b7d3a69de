import { AppError } from '@ceb179/errors';
import { loadEportSimConfig } from './config';
import { readCardFile } from './data-access/card.file';

/**
 * Prints the card's public half as JSON, for registering it with the customs simulator:
 * `node dist/export-certificate.cli.js [card-file]` (default: CEB179_EPORT_SIM_CARD_FILE).
 * Never prints the PIN or the private key.
 */
function main(): void {
  const path = process.argv[2] ?? loadEportSimConfig().cardFile;
  if (!path) throw new AppError('CONFIG', 'usage: export-certificate <card-file> (or set CEB179_EPORT_SIM_CARD_FILE)');
  const card = readCardFile(path);
  process.stdout.write(
    `${JSON.stringify({ algorithm: card.algorithm, certNo: card.certNo, cardId: card.cardId, certificateBase64: card.certificateBase64 })}\n`,
  );
}

try {
  main();
} catch (error) {
  process.stderr.write(`${error instanceof AppError ? error.reason : String(error)}\n`);
  process.exit(1);
}
