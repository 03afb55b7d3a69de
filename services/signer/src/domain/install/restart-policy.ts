import type { RestartPolicy } from './winsw-xml';

/** Restart after a crash after 10 s, 30 s, 60 s; an hour without crashes starts the count again. */
export const RESTART_POLICY: RestartPolicy = { delaysSeconds: [10, 30, 60], resetAfterSeconds: 3600 };

/** Why the restart policy cannot spend PIN attempts in a loop (shown in the dry run, docs/signer-pin-safety.md). */
export const WHY_NO_PIN_LOOP = [
  'Windows restarts the signer only when its process ends with an error (a crash, a bad setting, a broker unreachable at start).',
  'A PIN refusal never ends the process: the signer stays up, paused (health state paused-for-pin), and sends no further PIN.',
  'Before it acts on a refusal the signer writes it to its state folder (a salted fingerprint, never the PIN). A restarted signer reads that memory once it knows the card and never resends a refused PIN to that card; only a different PIN (a corrected PIN file) gets its one try.',
  'So even a restart loop sends no PIN the card has refused: at most one refused attempt per PIN and card, ever.',
] as const;
