import { defaultStateDir } from './config';
import { FilePinMemory } from './data-access/pin-memory.file';

/**
 * `node services/signer/dist/pin-state.js show|clear [certNo]` on the card PC: what the signer
 * remembers of PIN refusals (docs/signer-pin-safety.md), and forgetting it once a person has made
 * sure the PIN file holds the right PIN (and, if the card locked, the issuer has unlocked it).
 * Reads CEB179_SIGNER_STATE_DIR like the signer. Never asks for or prints a PIN.
 */
function main(argv: string[]): number {
  const [command = 'show', certNo] = argv;
  const memory = new FilePinMemory(process.env.CEB179_SIGNER_STATE_DIR || defaultStateDir());
  if (command === 'show') {
    const cards = memory.list();
    process.stdout.write(`state folder: ${memory.folder}\n`);
    if (cards.length === 0) process.stdout.write('no card has refused a PIN here; nothing is pending\n');
    for (const card of cards) {
      process.stdout.write(`card ${card.certNo}: ${card.provenPin ? 'a PIN was accepted before' : 'no PIN accepted yet'}\n`);
      if (card.pendingPin) process.stdout.write(`  an attempt sent ${card.pendingSince ?? ''} got no answer\n`);
      for (const refusal of card.refused) process.stdout.write(`  REFUSED ${refusal.at}: ${refusal.reason}\n`);
    }
    return 0;
  }
  if (command === 'clear') {
    const removed = memory.clear(certNo);
    process.stdout.write(
      removed.length === 0
        ? `nothing to clear in ${memory.folder}\n`
        : `cleared ${removed.join(', ')} in ${memory.folder}; the next start tries the PIN in the PIN file once\n`,
    );
    return 0;
  }
  process.stderr.write('usage: pin-state.js show | clear [certNo]\n');
  return 2;
}

process.exit(main(process.argv.slice(2)));
