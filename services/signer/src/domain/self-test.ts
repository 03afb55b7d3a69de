import iconv from 'iconv-lite';
import { AppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { buildSignString, verifySignatureOverBytes, type CardCertificate } from '@ceb179/protocol';
import type { Card, Signature } from './card';
import { EXPIRY_WARNING_DAYS, type SignerStatus } from './signer-status';

const DAY_MS = 24 * 3600 * 1000;

/**
 * A sign string of the real shape that can never be a real upload (its sessionID says so). Its
 * text holds what a control that mangles text gets wrong: Chinese (a control that signs GBK
 * instead of UTF-8 only differs outside ASCII), `"` and `\` (escaped inside the raw inner JSON), a
 * newline, `/` and `&` (left unescaped by the protocol).
 */
export function probeSignString(serviceTime = Date.now()): string {
  const head = {
    guid: '00000000-0000-4000-8000-000000000000',
    initalRequest: '自检 self-test "quoted" \\ back\nslash',
    initalResponse: 'self-test',
    ebpCode: 'SELFTEST',
    payCode: 'SELFTEST',
    payTransactionId: 'SELFTEST',
    totalAmount: 0,
    currency: '142',
    verDept: '3',
    payType: '',
    tradingTime: '20000101000000',
    note: '签名自检 / a&b',
  };
  const lists = [
    {
      orderNo: 'SELFTEST',
      goodsInfo: [{ gname: '自检商品 "测试"', itemLink: 'http://self-test/item?a=1&b=2' }],
      recpAccount: 'SELFTEST',
      recpCode: '',
      recpName: '自检收款方',
    },
  ];
  return buildSignString({
    sessionID: 'ceb179-signer-self-test',
    headJson: JSON.stringify(head),
    listsJson: JSON.stringify(lists),
    serviceTime: String(serviceTime),
  });
}

/** Encodings a control might sign instead of UTF-8: named in the self-test's verdict. */
const OTHER_ENCODINGS: Array<{ name: string; encode: (text: string) => Buffer }> = [
  { name: 'GBK (GB18030)', encode: (text) => iconv.encode(text, 'gb18030') },
  { name: 'UTF-16LE', encode: (text) => Buffer.from(text, 'utf16le') },
];

/** Why a probe signature failed, in words an operator can act on. */
export function diagnoseBadProbe(certificate: CardCertificate, probe: string, signature: Signature): string {
  for (const encoding of OTHER_ENCODINGS) {
    if (verifySignatureOverBytes(certificate, encoding.encode(probe), signature.signValue)) {
      return `the control signs the ${encoding.name} bytes of the sign string, not its UTF-8 bytes: every document with Chinese text would be refused by customs. Use a control version that signs UTF-8 (check the E-Port client's version and its encoding setting)`;
    }
  }
  return `the card's probe signature does not verify against certificate ${certificate.certNo} over the UTF-8 sign string (certNo returned: ${signature.certNo})`;
}

export interface SelfTestResult {
  certNo: string;
  algorithm: string;
  notAfter: Date;
  daysLeft: number;
}

/**
 * Start-up self-test: the certificate is readable and valid, and a probe signature made by the
 * card over text with Chinese, quotes, backslash, newline, `/` and `&` verifies locally. Nothing is
 * consumed until this passes. The probe carries the PIN through the PIN gate: a PIN this card PC
 * has seen refused is never sent (AppError 'CARD_PIN' without a call), otherwise it costs exactly
 * one attempt.
 */
export async function runSelfTest(card: Card, status: SignerStatus, logger: Logger, now = new Date()): Promise<SelfTestResult> {
  const certificate = await card.readCertificate();
  status.cardIdentified(certificate, await card.cardId());
  const daysLeft = Math.floor((certificate.notAfter.getTime() - now.getTime()) / DAY_MS);
  if (certificate.notAfter.getTime() <= now.getTime()) {
    throw new AppError('CONFIG', `the card certificate ${certificate.certNo} expired on ${certificate.notAfter.toISOString()}`);
  }
  if (certificate.notBefore.getTime() > now.getTime()) {
    throw new AppError('CONFIG', `the card certificate ${certificate.certNo} is not valid before ${certificate.notBefore.toISOString()}`);
  }
  if (daysLeft <= EXPIRY_WARNING_DAYS) {
    logger.warn(
      { certNo: certificate.certNo, notAfter: certificate.notAfter.toISOString(), daysLeft, alert: 'certificate-expiry' },
      'card certificate expires soon: renew it with the issuer',
    );
  }
  await proveSigning(card);
  return { certNo: certificate.certNo, algorithm: certificate.algorithm, notAfter: certificate.notAfter, daysLeft };
}

/** One probe signature, verified locally; throws SIGNATURE_INVALID naming the cause when it does not verify. */
export async function proveSigning(card: Pick<Card, 'sign' | 'verify' | 'certificate'>): Promise<void> {
  const probe = probeSignString();
  const signature = await card.sign(probe);
  if (!card.verify(probe, signature)) {
    throw new AppError('SIGNATURE_INVALID', diagnoseBadProbe(card.certificate, probe, signature));
  }
}
