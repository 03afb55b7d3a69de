import { AppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { buildSignString } from '@ceb179/protocol';
import type { Card } from './card';
import { EXPIRY_WARNING_DAYS, type SignerStatus } from './signer-status';

const DAY_MS = 24 * 3600 * 1000;

/** A sign string of the real shape that can never be a real upload (its sessionID says so). */
function probeSignString(): string {
  const head = {
    guid: '00000000-0000-4000-8000-000000000000', initalRequest: 'self-test', initalResponse: 'self-test', ebpCode: 'SELFTEST',
    payCode: 'SELFTEST', payTransactionId: 'SELFTEST', totalAmount: 0, currency: '142', verDept: '3', payType: '',
    tradingTime: '20000101000000', note: '',
  };
  const lists = [{ orderNo: 'SELFTEST', goodsInfo: [{ gname: 'self-test', itemLink: 'http://self-test' }], recpAccount: 'SELFTEST', recpCode: '', recpName: 'self-test' }];
  return buildSignString({ sessionID: 'ceb179-signer-self-test', headJson: JSON.stringify(head), listsJson: JSON.stringify(lists), serviceTime: String(Date.now()) });
}

export interface SelfTestResult {
  certNo: string;
  algorithm: string;
  notAfter: Date;
  daysLeft: number;
}

/**
 * Start-up self-test: the certificate is readable and valid, and a probe signature made by the
 * card verifies locally. Nothing is consumed until this passes. The probe costs exactly one
 * PIN attempt; a PIN refusal surfaces as AppError('CARD_PIN').
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
    logger.warn({ certNo: certificate.certNo, notAfter: certificate.notAfter.toISOString(), daysLeft, alert: 'certificate-expiry' }, 'card certificate expires soon: renew it with the issuer');
  }
  const probe = probeSignString();
  const signature = await card.sign(probe);
  if (!card.verify(probe, signature)) {
    throw new AppError('SIGNATURE_INVALID', `the card's probe signature does not verify against certificate ${certificate.certNo} (certNo returned: ${signature.certNo})`);
  }
  return { certNo: certificate.certNo, algorithm: certificate.algorithm, notAfter: certificate.notAfter, daysLeft };
}
