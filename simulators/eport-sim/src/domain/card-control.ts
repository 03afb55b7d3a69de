import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ControlMethods } from '@ceb179/protocol';
import { chinaTimestamp } from './china-time';
import { ControlErrors } from './control-errors';
import { encodeForSigning, formatBase64, formatCertNo, TIDY_QUIRKS, type ControlQuirks } from './control-quirks';
import { PinGuard } from './pin-guard';
import type { SoftCard } from './soft-card';

/** What goes into `_args` of a reply: `Result`, `Data`, `Error`. */
export interface ControlOutcome {
  result: boolean;
  data: string[];
  errors: string[];
}

export interface CardControlOptions {
  /** Delay before a signature is returned, so callers can overlap requests and time out. */
  signLatencyMs: number;
  maxWrongPins: number;
  quirks?: Partial<ControlQuirks>;
}

type Args = Record<string, unknown>;

/**
 * The control's methods against one software card, independent of the WebSocket: this is
 * where the PIN rules, reader faults and signing live.
 */
export class CardControl {
  private readonly pins: PinGuard;
  private readonly validity: { szStartTime: string; szEndTime: string };
  private signatures = 0;
  private pendingFaults: string[] = [];
  private corruptions = 0;
  private drops = 0;
  private currentQuirks: ControlQuirks;

  constructor(
    readonly card: SoftCard,
    private readonly options: CardControlOptions,
  ) {
    this.pins = new PinGuard(card, options.maxWrongPins);
    this.validity = certificateValidity(card);
    this.currentQuirks = { ...TIDY_QUIRKS, ...options.quirks };
  }

  get quirks(): ControlQuirks {
    return this.currentQuirks;
  }

  /** Changes how the control behaves from the next request on (greeting and pings: from the next connection). */
  setQuirks(quirks: Partial<ControlQuirks>): void {
    this.currentQuirks = { ...this.currentQuirks, ...quirks };
  }

  async handle(method: string, args: Args): Promise<ControlOutcome> {
    const handler = this.handlers[method];
    if (handler === undefined) return failure(ControlErrors.unknownMethod(method));
    // A reader fault hits whatever the card is asked next, before the PIN is read.
    const fault = this.pendingFaults.shift();
    if (fault !== undefined) return failure(fault);
    return handler(args);
  }

  /** The next `count` card requests fail with `error` (a reader fault by default). */
  failNext(count: number, error: string = ControlErrors.readerOpenFailed): void {
    for (let i = 0; i < count; i += 1) this.pendingFaults.push(error);
  }

  /** The next `count` signatures come back with one byte flipped, as a faulty reader or link would. */
  corruptNextSignatures(count: number): void {
    this.corruptions += count;
  }

  /** The next `count` sign requests are carried out but the connection drops before the reply. */
  dropDuringNextSigns(count: number): void {
    this.drops += count;
  }

  /** Whether the server should drop the connection instead of replying to this request. */
  takeDrop(method: string): boolean {
    if (method !== ControlMethods.signDataAsPem || this.drops === 0) return false;
    this.drops -= 1;
    return true;
  }

  unlock(): void {
    this.pins.unlock();
  }

  stats(): { signatures: number; pinAttempts: number; wrongPinAttempts: number; locked: boolean } {
    return { signatures: this.signatures, ...this.pins.stats() };
  }

  private readonly handlers: Record<string, (args: Args) => Promise<ControlOutcome> | ControlOutcome> = {
    [ControlMethods.signDataAsPem]: (args) => this.signData(args),
    [ControlMethods.getCertNo]: () => success([formatCertNo(this.card.certNo, this.quirks.certNoFormat)]),
    [ControlMethods.getSignCertAsPem]: () =>
      success([formatBase64(this.card.certificateBase64, this.quirks.certificateFormat, 'CERTIFICATE')]),
    // The control returns the validity as a JSON text inside Data[0], not as an object.
    [ControlMethods.getValidTimeFromCert]: () => success([JSON.stringify(this.validity)]),
    [ControlMethods.getCardId]: () => success([this.card.cardId]),
    [ControlMethods.verifyPin]: (args) => this.verifyPin(args),
  };

  private async signData(args: Args): Promise<ControlOutcome> {
    const inData = args['inData'];
    const passwd = args['passwd'];
    // Malformed requests are refused before the PIN is read, so they never cost a PIN try.
    if (typeof inData !== 'string' || inData === '') return failure(ControlErrors.missingArgument('inData'));
    if (typeof passwd !== 'string') return failure(ControlErrors.missingArgument('passwd'));
    // The card takes its time before it says anything, a wrong PIN included: clients queue up behind it.
    if (this.options.signLatencyMs > 0) await sleep(this.options.signLatencyMs);
    const pin = this.pins.check(passwd);
    if (!pin.ok) return failure(pin.error);
    let signature = this.card.signBytes(encodeForSigning(inData, this.quirks.signEncoding));
    this.signatures += 1;
    if (this.corruptions > 0) {
      this.corruptions -= 1;
      signature = corrupt(signature);
    }
    return success([formatBase64(signature, this.quirks.signatureFormat), formatCertNo(this.card.certNo, this.quirks.certNoFormat)]);
  }

  private verifyPin(args: Args): ControlOutcome {
    const passwd = args['passwd'];
    if (typeof passwd !== 'string') return failure(ControlErrors.missingArgument('passwd'));
    const pin = this.pins.check(passwd);
    return pin.ok ? success([]) : failure(pin.error);
  }
}

function corrupt(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1] ?? 0) ^ 0x01;
  return bytes.toString('base64');
}

function success(data: string[]): ControlOutcome {
  return { result: true, data, errors: [] };
}

function failure(error: string): ControlOutcome {
  return { result: false, data: [], errors: [error] };
}

function certificateValidity(card: SoftCard): { szStartTime: string; szEndTime: string } {
  const certificate = new X509Certificate(Buffer.from(card.certificateBase64, 'base64'));
  return {
    szStartTime: chinaTimestamp(new Date(certificate.validFrom)),
    szEndTime: chinaTimestamp(new Date(certificate.validTo)),
  };
}
