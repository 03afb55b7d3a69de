import { randomUUID } from 'node:crypto';
import type { CustomsReply } from '../clients/customs.client';
import {
  HELD_BY_CUSTOMS_CODES,
  type AttemptRecord,
  type ClaimResult,
  type ReopenResult,
  type UploadClaim,
} from '../data-access/request.repository';
import type { CustomsUpload, UploadLedger } from './upload-request.use-case';

export interface StoredRequest {
  sessionID: string;
  status: 'received' | 'assembled' | 'signed' | 'uploaded' | 'upload_rejected' | 'config_fault' | 'data_fault';
  headJson: string;
  listsJson: string;
  serviceTime: string;
  deadlineAt: Date;
  certNo: string | null;
  signValue: string | null;
  signerId: string | null;
  /** The fencing token of the claim held now; undefined when nobody holds one. */
  claimToken: string | undefined;
  claims: number;
  customsCode: string | null;
  reason: string | null;
  attempts: AttemptRecord[];
}

/**
 * The ledger's request rows and upload attempts in memory, with the SQL's rules: one fresh claim at a
 * time, the first signature kept, finish and release by the claim's holder only, and "an earlier
 * attempt may have reached customs" = more earlier claims than attempts that certainly never left.
 */
export class InMemoryUploadLedger implements UploadLedger {
  readonly rows = new Map<string, StoredRequest>();

  add(row: Partial<StoredRequest> & Pick<StoredRequest, 'sessionID'>): StoredRequest {
    const stored: StoredRequest = {
      status: 'assembled',
      serviceTime: '1700000000123',
      deadlineAt: new Date(Date.now() + 120_000),
      headJson: '{"guid":"9D55BA71-55DE-41F4-8B50-C36C83B3B419","ebpCode":"3301963K69","totalAmount":100}',
      listsJson: '[{"orderNo":"SO-1","goodsInfo":[{"gname":"商品","itemLink":"http://m.example.com/1"}]}]',
      certNo: null,
      signValue: null,
      signerId: null,
      claimToken: undefined,
      claims: 0,
      customsCode: null,
      reason: null,
      attempts: [],
      ...row,
    };
    this.rows.set(stored.sessionID, stored);
    return stored;
  }

  /** Another reporter takes the claim over (the first one stalled past the stale-claim time). */
  retakeClaim(sessionID: string): void {
    const row = this.rows.get(sessionID);
    if (row) row.claimToken = randomUUID();
  }

  claimForUpload(sessionID: string, certNo: string, signValue: string, signerId: string): Promise<ClaimResult> {
    const row = this.rows.get(sessionID);
    if (!row || row.status === 'received') return Promise.resolve({ kind: 'missing' });
    if (row.status === 'signed' && row.claimToken) return Promise.resolve({ kind: 'busy' });
    if (row.status !== 'assembled' && row.status !== 'signed') return Promise.resolve({ kind: 'done', status: row.status });
    const earlierClaims = row.claims;
    const unreached = row.attempts.filter((attempt) => attempt.reachedCustoms === false).length;
    Object.assign(row, { status: 'signed', claimToken: randomUUID(), claims: row.claims + 1 });
    row.certNo ??= certNo;
    row.signValue ??= signValue;
    row.signerId ??= signerId;
    const claim: UploadClaim = {
      sessionID,
      token: row.claimToken as string,
      headJson: row.headJson,
      listsJson: row.listsJson,
      serviceTime: row.serviceTime,
      certNo: row.certNo,
      signValue: row.signValue,
      deadlineAt: row.deadlineAt,
      earlierAttemptMayHaveReached: earlierClaims > unreached,
    };
    return Promise.resolve({ kind: 'claimed', claim });
  }

  recordAttempt(sessionID: string, attempt: AttemptRecord): Promise<void> {
    this.rows.get(sessionID)?.attempts.push(attempt);
    return Promise.resolve();
  }

  finish(
    claim: Pick<UploadClaim, 'sessionID' | 'token'>,
    status: 'uploaded' | 'upload_rejected' | 'config_fault',
    code: string | null,
    _message: string | null,
    reason: string | null,
  ): Promise<{ applied: boolean; late: boolean }> {
    const row = this.rows.get(claim.sessionID);
    if (row?.status !== 'signed' || row.claimToken !== claim.token) return Promise.resolve({ applied: false, late: false });
    Object.assign(row, { status, customsCode: code, reason, claimToken: undefined });
    return Promise.resolve({ applied: true, late: status === 'uploaded' && Date.now() > row.deadlineAt.getTime() });
  }

  releaseClaim(claim: Pick<UploadClaim, 'sessionID' | 'token'>, reason: string): Promise<boolean> {
    const row = this.rows.get(claim.sessionID);
    if (row?.status !== 'signed' || row.claimToken !== claim.token) return Promise.resolve(false);
    Object.assign(row, { claimToken: undefined, reason });
    return Promise.resolve(true);
  }

  reopenForResend(sessionID: string, reason: string): Promise<ReopenResult> {
    const row = this.rows.get(sessionID);
    if (!row) return Promise.resolve({ kind: 'refused', why: 'no such request in the ledger' });
    const held = row.status === 'uploaded' || row.attempts.some((attempt) => HELD_BY_CUSTOMS_CODES.includes(attempt.customsCode ?? ''));
    if (held) return Promise.resolve({ kind: 'refused', why: 'customs already holds this request' });
    if (row.status === 'signed' && row.claimToken) return Promise.resolve({ kind: 'busy' });
    if (!['upload_rejected', 'config_fault', 'signed'].includes(row.status) || !row.signValue || !row.certNo) {
      return Promise.resolve({ kind: 'refused', why: `status ${row.status} has no signed document to upload` });
    }
    Object.assign(row, { status: 'signed', claimToken: undefined, reason });
    return Promise.resolve({ kind: 'reopened', certNo: row.certNo, signValue: row.signValue, signerId: row.signerId ?? 'operator' });
  }
}

/** Customs' upload endpoint, scripted: each call takes the next answer (a reply, or an error to throw). */
export class ScriptedCustoms implements CustomsUpload {
  readonly bodies: string[] = [];
  private readonly script: Array<Partial<CustomsReply> | Error> = [];

  answers(...answers: Array<Partial<CustomsReply> | Error>): this {
    this.script.push(...answers);
    return this;
  }

  upload(formBody: string): Promise<CustomsReply> {
    this.bodies.push(formBody);
    const next = this.script.shift();
    if (next === undefined) return Promise.reject(new Error('the test scripted no further customs answer'));
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve({ httpStatus: 200, code: '10000', message: '', latencyMs: 42, ...next });
  }
}
