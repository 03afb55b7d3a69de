import WebSocket from 'ws';
import { toAppError } from '@ceb179/errors';
import { canonicalBase64, ControlMethods, controlText, verifySignature, type CardCertificate } from '@ceb179/protocol';
import type { ControlLink } from './clients/control.link';
import type { Card } from './domain/card';
import { describeBase64Form, describeCertNoForm } from './domain/control-variations';
import type { PinGate } from './domain/pin-gate';
import { diagnoseBadProbe, probeSignString } from './domain/self-test';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Whether the control answers a WebSocket ping within `timeoutMs` (real controls may not). */
export function answersPing(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { handshakeTimeout: 5_000 });
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.terminate();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs + 5_000);
    socket.once('open', () => {
      socket.ping();
      setTimeout(() => done(false), timeoutMs);
    });
    socket.once('pong', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * `doctor --first-contact`: the day ceb179 first meets a real control and card. Reports how this
 * control writes what ceb179 reads (greeting, pings, certNo, certificate and signature form) and
 * signs a probe with Chinese text, quotes, backslash, newline, `/` and `&` — one PIN attempt,
 * through the PIN gate — verifying it locally and naming the encoding when it does not verify.
 */
export async function firstContactChecks(
  url: string,
  control: ControlLink,
  card: Card,
  gate: PinGate,
  certificate: CardCertificate | undefined,
): Promise<Check[]> {
  const checks: Check[] = [];
  const pong = await answersPing(url, 2_000);
  checks.push({
    name: 'WebSocket pings',
    ok: true,
    detail: pong ? 'answered' : 'not answered (fine: ceb179 sends no keep-alive by default; leave CEB179_SIGNER_CONTROL_KEEPALIVE_MS at 0)',
  });
  if (!certificate) {
    checks.push({
      name: 'first contact',
      ok: false,
      detail: 'the card could not be read, so nothing was signed',
      fix: 'fix the card checks above first',
    });
    return checks;
  }
  try {
    const certNoReply = await control.call(ControlMethods.getCertNo, {});
    checks.push({ name: 'certNo form', ok: true, detail: describeCertNoForm(controlText(certNoReply.data[0]).trim(), certificate.certNo) });
    const certReply = await control.call(ControlMethods.getSignCertAsPem, {});
    checks.push({ name: 'certificate form', ok: true, detail: describeBase64Form(controlText(certReply.data[0])) });
  } catch (error) {
    checks.push({ name: 'certificate form', ok: false, detail: toAppError(error).message });
  }
  if (gate.state === 'refused') {
    checks.push({
      name: 'probe signature',
      ok: false,
      detail: `not signed: ${gate.reason}`,
      fix: 'correct the PIN file (docs/signer-pin-safety.md)',
    });
    return checks;
  }
  process.stdout.write('       signing a probe with Chinese text: this spends ONE PIN attempt if the PIN is wrong.\n');
  const probe = probeSignString();
  try {
    const returned = await card.signAsReturned(probe);
    checks.push({
      name: 'signature form',
      ok: canonicalBase64(returned.signature) !== null,
      detail: `${describeBase64Form(returned.signature)}; ${returned.signature.length} characters`,
    });
    checks.push({ name: 'certNo in the sign reply', ok: true, detail: describeCertNoForm(returned.certNo.trim(), certificate.certNo) });
    const signValue = canonicalBase64(returned.signature) ?? returned.signature;
    const verified = verifySignature(certificate, probe, signValue);
    checks.push({
      name: 'probe signature (Chinese, quotes, backslash, newline, / and &)',
      ok: verified,
      detail: verified
        ? `verifies locally (${certificate.algorithm}); the upload carries certNo ${certificate.certNo}`
        : diagnoseBadProbe(certificate, probe, { signValue, certNo: certificate.certNo }),
    });
  } catch (error) {
    const appError = toAppError(error);
    checks.push({
      name: 'probe signature',
      ok: false,
      detail: appError.message,
      ...(appError.code === 'CARD_PIN' ? { fix: 'correct the PIN file; do NOT try again blindly (docs/signer-pin-safety.md)' } : {}),
    });
  }
  return checks;
}
