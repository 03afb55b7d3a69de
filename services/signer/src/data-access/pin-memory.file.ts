import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes, scryptSync } from 'node:crypto';
import path from 'node:path';
import { AppError } from '@ceb179/errors';
import type { PinMemory, PinRecord } from '../domain/pin-gate';

interface CardPinFile extends PinRecord {
  format: typeof FORMAT;
  salt: string;
}

const FORMAT = 'ceb179-signer-pin-memory/1';
const FILE_PREFIX = 'pin-memory-';

/**
 * The refusal memory of docs/signer-pin-safety.md, one small JSON file per card in the signer's
 * state folder. A refusal must survive a crash, a reboot and a service manager's restart, so it is
 * written (and fsynced) before the refused call's caller hears of it. The PIN itself never touches
 * the disk: only scrypt(PIN, per-card random salt), which a person cannot read a PIN back from
 * without brute force (short PINs can be brute-forced: keep the folder as private as the PIN file).
 */
export class FilePinMemory implements PinMemory {
  constructor(private readonly stateDir: string) {}

  get folder(): string {
    return this.stateDir;
  }

  /** Fails at start-up, not at the first refusal, when the folder cannot be written. */
  ensureWritable(): void {
    try {
      mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
      const probe = path.join(this.stateDir, `.write-test-${process.pid}`);
      writeDurably(probe, 'ok');
      rmSync(probe, { force: true });
    } catch (error) {
      throw new AppError(
        'CONFIG',
        `the signer state folder ${this.stateDir} is not writable (${(error as Error).message}); the signer must remember PIN refusals there: set CEB179_SIGNER_STATE_DIR`,
      );
    }
  }

  load(certNo: string): PinRecord {
    const file = this.read(certNo);
    return { certNo, refused: file?.refused ?? [], ...pick(file) };
  }

  /** The salted fingerprint of `pin` for this card (the salt is created with the card's file). */
  fingerprint(certNo: string, pin: string): string {
    const file = this.read(certNo) ?? this.create(certNo);
    return scryptSync(pin.normalize('NFC'), Buffer.from(file.salt, 'hex'), 32, { N: 1 << 14, r: 8, p: 1 }).toString('hex');
  }

  save(record: PinRecord): void {
    const current = this.read(record.certNo) ?? this.create(record.certNo);
    const next: CardPinFile = { format: FORMAT, salt: current.salt, certNo: record.certNo, refused: record.refused, ...pick(record) };
    writeDurably(this.fileOf(record.certNo), `${JSON.stringify(next, null, 2)}\n`);
  }

  /** Forgets the refusals (and pending attempts) of one card, or of every card; returns the files removed. */
  clear(certNo?: string): string[] {
    const removed: string[] = [];
    for (const name of this.files()) {
      if (certNo !== undefined && name !== `${FILE_PREFIX}${canonicalCertNo(certNo)}.json`) continue;
      rmSync(path.join(this.stateDir, name), { force: true });
      removed.push(name);
    }
    return removed;
  }

  /** Every card this folder remembers. */
  list(): PinRecord[] {
    return this.files().flatMap((name) => {
      const certNo = name.slice(FILE_PREFIX.length, -'.json'.length);
      const record = this.read(certNo);
      return record ? [{ certNo, refused: record.refused, ...pick(record) }] : [];
    });
  }

  private files(): string[] {
    try {
      return readdirSync(this.stateDir).filter((name) => name.startsWith(FILE_PREFIX) && name.endsWith('.json'));
    } catch {
      return [];
    }
  }

  private fileOf(certNo: string): string {
    return path.join(this.stateDir, `${FILE_PREFIX}${canonicalCertNo(certNo)}.json`);
  }

  private create(certNo: string): CardPinFile {
    const file: CardPinFile = { format: FORMAT, salt: randomBytes(16).toString('hex'), certNo, refused: [] };
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    writeDurably(this.fileOf(certNo), `${JSON.stringify(file, null, 2)}\n`);
    return file;
  }

  private read(certNo: string): CardPinFile | undefined {
    let text: string;
    try {
      text = readFileSync(this.fileOf(certNo), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AppError('CONFIG', `cannot read the PIN memory of card ${certNo} in ${this.stateDir}: ${(error as Error).message}`);
    }
    let parsed: CardPinFile;
    try {
      parsed = JSON.parse(text) as CardPinFile;
    } catch {
      parsed = { format: 'broken' } as unknown as CardPinFile;
    }
    if (parsed.format !== FORMAT || typeof parsed.salt !== 'string' || !Array.isArray(parsed.refused)) {
      // A damaged memory must not read as "nothing refused": that would let a refused PIN through.
      throw new AppError(
        'CONFIG',
        `the PIN memory of card ${certNo} (${this.fileOf(certNo)}) is damaged; no PIN is sent until a person checks the PIN and runs the pin-state clear command`,
      );
    }
    return parsed;
  }
}

export function canonicalCertNo(certNo: string): string {
  return certNo.toLowerCase().replace(/^0+(?=.)/, '');
}

function pick(record: Partial<PinRecord> | undefined): Pick<PinRecord, 'provenPin' | 'pendingPin' | 'pendingSince'> {
  return {
    ...(record?.provenPin ? { provenPin: record.provenPin } : {}),
    ...(record?.pendingPin ? { pendingPin: record.pendingPin } : {}),
    ...(record?.pendingSince ? { pendingSince: record.pendingSince } : {}),
  };
}

/** Write to a temporary file, fsync, rename over: a crash leaves the old file or the new one, never half. */
function writeDurably(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
