export interface RegisteredCertificate {
  /** Bare base64 DER or PEM. */
  certificateBase64: string;
  /** The ebpCodes this certificate may upload for; omitted = any ebpCode. */
  ebpCodes?: string[];
}

export interface UploadRecord {
  receivedAt: Date;
  httpStatus: number;
  contentType: string;
  userAgent?: string;
  rawBody: string;
  sessionID?: string;
  headJson?: string;
  listsJson?: string;
  serviceTime?: string;
  certNo?: string;
  signValue?: string;
  /** The sign string rebuilt from the raw head/lists text received, as customs does. */
  signString?: string;
  verified: boolean;
  verifyProblem?: string;
  /** Customs' answer code; "" when an injected fault answered instead. */
  code: string;
  message: string;
}

export interface CallbackResult {
  orderNo: string;
  sessionID: string;
  serviceTimeSentAs: 'string' | 'number';
  httpStatus: number;
  contentType: string;
  /** The reply parsed as JSON, or the raw text when it is not JSON. */
  body: unknown;
  latencyMs: number;
}
