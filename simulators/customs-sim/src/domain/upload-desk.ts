import { buildSignString, extractUploadParts, isCanonicalBase64, verifySignature } from '@ceb179/protocol';
import { AppError } from '@ceb179/errors';
import { allowsEbpCode, type CertificateRegistry } from './certificate-registry';
import type { UploadLog } from './upload-log';
import type { UploadRecord } from './types';

export const CustomsCodes = {
  accepted: '10000',
  failed: '20000',
  certificateNotRegistered: '20004',
  duplicateSession: '20006',
} as const;

export interface IncomingUpload {
  contentType: string;
  userAgent?: string;
  rawBody: string;
}

/** What goes back on the wire for one upload request. */
export interface UploadAnswer {
  /** Hold the reply this long before sending it (the upload is judged and stored at once). */
  holdMs?: number;
  httpStatus: number;
  contentType: string;
  body: string;
  record: UploadRecord;
}

export interface UploadDeskOptions {
  /**
   * Real customs answers 10000 before it verifies the signature (docs/protocol.md §2, M) and
   * rejects bad signatures later, out of band. Default false mirrors that; true answers 20000.
   */
  rejectBadSignatures: boolean;
  /**
   * Strict: signValue must be canonical base64 (no line breaks, blanks or PEM lines), and bad
   * signatures are refused at once (20000). Real customs may be this strict; the e2e tests use it.
   * certNo is always matched exactly as registered (lowercase hex): that is customs' behaviour.
   */
  strict?: boolean;
}

type Parts = ReturnType<typeof extractUploadParts>;

/** Customs' upload endpoint, minus HTTP: judges one request, records it, and says what to answer. */
export class UploadDesk {
  private readonly faults: number[] = [];
  private readonly holds: number[] = [];
  private readonly refusals: Array<{ code: string; message: string }> = [];

  constructor(
    private readonly registry: CertificateRegistry,
    private readonly log: UploadLog,
    private readonly options: UploadDeskOptions,
  ) {}

  /** The next `count` uploads get `httpStatus` with a non-JSON body, as a failing gateway would send. */
  failNext(count: number, httpStatus = 503): void {
    if (!Number.isInteger(count) || count < 0) throw new AppError('INVALID_INPUT', 'count must be a non-negative integer');
    if (!Number.isInteger(httpStatus) || httpStatus < 100 || httpStatus > 599) {
      throw new AppError('INVALID_INPUT', 'httpStatus must be an HTTP status code');
    }
    for (let i = 0; i < count; i += 1) this.faults.push(httpStatus);
  }

  /**
   * The next `count` uploads are judged and stored at once, but their reply is held `holdMs` ms:
   * a client that gives up first does not know customs has the upload.
   */
  holdNextReplies(count: number, holdMs: number): void {
    if (!Number.isInteger(count) || count < 0) throw new AppError('INVALID_INPUT', 'count must be a non-negative integer');
    if (!Number.isInteger(holdMs) || holdMs < 0) throw new AppError('INVALID_INPUT', 'holdMs must be a non-negative integer');
    for (let i = 0; i < count; i += 1) this.holds.push(holdMs);
  }

  /**
   * The next `count` well-formed uploads are answered `code` with `message` and not stored, e.g.
   * 20006 with a storage error, which real customs has sent to a first attempt.
   */
  refuseNextUploads(count: number, code: string, message: string): void {
    if (!Number.isInteger(count) || count < 0) throw new AppError('INVALID_INPUT', 'count must be a non-negative integer');
    if (!/^\d{5}$/.test(code)) throw new AppError('INVALID_INPUT', 'code must be a customs code of five digits');
    for (let i = 0; i < count; i += 1) this.refusals.push({ code, message });
  }

  receive(upload: IncomingUpload): UploadAnswer {
    const answer = this.judge(upload);
    const holdMs = this.holds.shift();
    return holdMs === undefined ? answer : { ...answer, holdMs };
  }

  private judge(upload: IncomingUpload): UploadAnswer {
    const base = {
      receivedAt: new Date(),
      contentType: upload.contentType,
      ...(upload.userAgent === undefined ? {} : { userAgent: upload.userAgent }),
      rawBody: upload.rawBody,
    };
    const fault = this.faults.shift();
    if (fault !== undefined) return this.injectedFault(base, fault);

    const form = readForm(upload);
    if ('problem' in form) return this.answer({ ...base, verified: false }, CustomsCodes.failed, form.problem);

    let parts: Parts;
    let signString: string;
    try {
      parts = extractUploadParts(form.payExInfoStr);
      // Also refuses what cannot be rebuilt unambiguously (a sessionID holding '"').
      signString = buildSignString(parts);
    } catch (error) {
      return this.answer({ ...base, verified: false }, CustomsCodes.failed, `payExInfoStr格式错误: ${describe(error)}`);
    }
    const seen = { ...base, ...partsOf(parts), signString, verified: false };

    const ebpCode = ebpCodeOf(parts.headJson);
    if (ebpCode === undefined) return this.answer(seen, CustomsCodes.failed, 'payExchangeInfoHead.ebpCode缺失或不是字符串');
    const entry = this.registry.lookup(parts.certNo);
    if (entry === undefined) {
      return this.answer(
        seen,
        CustomsCodes.certificateNotRegistered,
        `证书未备案: certNo ${parts.certNo}${caseHint(this.registry, parts.certNo)}`,
      );
    }
    if (!allowsEbpCode(entry, ebpCode)) {
      return this.answer(seen, CustomsCodes.certificateNotRegistered, `证书 ${parts.certNo} 未备案于电商平台 ${ebpCode}`);
    }
    if (this.options.strict && !isCanonicalBase64(parts.signValue)) {
      return this.answer(seen, CustomsCodes.failed, `signValue不是规范的base64 (${describeBase64(parts.signValue)})`);
    }
    const refusal = this.refusals.shift();
    if (refusal !== undefined) return this.answer(seen, refusal.code, refusal.message);
    if (this.log.isAccepted(parts.sessionID)) {
      return this.answer(seen, CustomsCodes.duplicateSession, `sessionID ${parts.sessionID} 已存在`);
    }

    const verifyProblem = checkSignature(entry.certificate, signString, parts.signValue);
    const judged = { ...seen, verified: verifyProblem === undefined, ...(verifyProblem ? { verifyProblem } : {}) };
    if (verifyProblem !== undefined && (this.options.rejectBadSignatures || this.options.strict)) {
      return this.answer(judged, CustomsCodes.failed, `签名验证失败: ${verifyProblem}`);
    }
    const answer = this.answer(judged, CustomsCodes.accepted, '上传成功');
    this.log.accept({ ...answer.record, sessionID: parts.sessionID });
    return answer;
  }

  private answer(seen: Omit<UploadRecord, 'httpStatus' | 'code' | 'message'>, code: string, message: string): UploadAnswer {
    const record: UploadRecord = { ...seen, httpStatus: 200, code, message };
    this.log.record(record);
    return {
      httpStatus: 200,
      contentType: 'application/json;charset=utf-8',
      body: JSON.stringify({ code, message, total: 0, serviceTime: Date.now() }),
      record,
    };
  }

  private injectedFault(
    base: Pick<UploadRecord, 'receivedAt' | 'contentType' | 'userAgent' | 'rawBody'>,
    httpStatus: number,
  ): UploadAnswer {
    // Parse what can be parsed so a test can tell which session the fault hit; never accepted.
    let seen: Partial<UploadRecord> = {};
    try {
      const form = readForm({ contentType: base.contentType, rawBody: base.rawBody });
      if (!('problem' in form)) seen = partsOf(extractUploadParts(form.payExInfoStr));
    } catch {
      // a fault answers the same whatever was sent
    }
    const record: UploadRecord = { ...base, ...seen, verified: false, httpStatus, code: '', message: `injected HTTP ${httpStatus}` };
    this.log.record(record);
    return {
      httpStatus,
      contentType: 'text/html',
      body: `<html><head><title>${httpStatus}</title></head><body><h1>${httpStatus} injected by customs-sim</h1></body></html>`,
      record,
    };
  }
}

function readForm(upload: Pick<IncomingUpload, 'contentType' | 'rawBody'>): { payExInfoStr: string } | { problem: string } {
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(upload.contentType)) {
    return { problem: `Content-Type必须是application/x-www-form-urlencoded, 收到 "${upload.contentType}"` };
  }
  // URLSearchParams decodes percent-escapes as UTF-8 and '+' as a space, like a servlet container:
  // a client that leaves '+' in signValue unencoded breaks here exactly as it would at customs.
  const values = new URLSearchParams(upload.rawBody).getAll('payExInfoStr');
  if (values.length === 0) return { problem: '缺少表单字段payExInfoStr' };
  if (values.length > 1) return { problem: '表单字段payExInfoStr出现多次' };
  const [payExInfoStr] = values as [string];
  if (payExInfoStr.trim() === '') return { problem: 'payExInfoStr为空' };
  return { payExInfoStr };
}

function partsOf(parts: Parts): Pick<UploadRecord, 'sessionID' | 'headJson' | 'listsJson' | 'serviceTime' | 'certNo' | 'signValue'> {
  return {
    sessionID: parts.sessionID,
    headJson: parts.headJson,
    listsJson: parts.listsJson,
    serviceTime: parts.serviceTime,
    certNo: parts.certNo,
    signValue: parts.signValue,
  };
}

function ebpCodeOf(headJson: string): string | undefined {
  try {
    const head: unknown = JSON.parse(headJson);
    const code = (head as Record<string, unknown> | null)?.['ebpCode'];
    return typeof code === 'string' && code !== '' ? code : undefined;
  } catch {
    return undefined;
  }
}

function checkSignature(certificate: Parameters<typeof verifySignature>[0], signString: string, signValue: string): string | undefined {
  try {
    if (verifySignature(certificate, signString, signValue)) return undefined;
    return 'signValue does not verify against the registered certificate over the rebuilt sign string';
  } catch (error) {
    return `signValue could not be checked: ${describe(error)}`;
  }
}

/** Not something customs says, but the most common cause of a 20004 in practice. */
function caseHint(registry: CertificateRegistry, certNo: string): string {
  const lower = certNo.toLowerCase();
  return lower !== certNo && registry.lookup(lower) ? ` (registered as ${lower}: certNo must be lowercase)` : '';
}

function describeBase64(value: string): string {
  if (/[\r\n]/.test(value)) return 'contains line breaks';
  if (/-----/.test(value)) return 'contains PEM header lines';
  if (/\s/.test(value)) return 'contains blanks';
  return 'not base64';
}

function describe(error: unknown): string {
  if (error instanceof AppError) return error.reason;
  return error instanceof Error ? error.message : String(error);
}
