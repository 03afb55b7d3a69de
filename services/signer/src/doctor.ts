import * as amqp from 'amqplib';
import WebSocket from 'ws';
import { loadConfig } from '@ceb179/config';
import { toAppError } from '@ceb179/errors';
import { createLogger } from '@ceb179/logger';
import { ControlMethods, controlText, parseControlFrame } from '@ceb179/protocol';
import { ControlLink, frameText } from './clients/control.link';
import { assertControlIsLocal, defaultStateDir, signerSchema, type SignerConfig } from './config';
import { FilePinMemory } from './data-access/pin-memory.file';
import { Card } from './domain/card';
import { PinGate } from './domain/pin-gate';
import { EXPIRY_WARNING_DAYS } from './domain/signer-status';
import { firstContactChecks } from './first-contact';
import type { CardCertificate } from '@ceb179/protocol';
import { signJobQueues } from './entry-points/sign-job.consumer';

/**
 * `node services/signer/dist/doctor.js [--check-pin] [--first-contact]` on the card PC: checks, in
 * order, what the signer needs and prints what to fix. Spends a PIN attempt only with --check-pin
 * or --first-contact (which also reports how this control writes greeting, pings, certNo,
 * certificate and signature, and signs a probe with Chinese text), and says so first. Exit code 0
 * when every check passed.
 */
interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

const checks: Check[] = [];
function report(check: Check): void {
  checks.push(check);
  const mark = check.ok ? 'OK  ' : 'FAIL';
  process.stdout.write(`[${mark}] ${check.name}: ${check.detail}\n`);
  if (!check.ok && check.fix) process.stdout.write(`       fix: ${check.fix}\n`);
}

function loadDoctorConfig(checkPin: boolean): SignerConfig {
  // The PIN is required only when the doctor is asked to try it.
  const env = { ...process.env };
  if (!checkPin && !env.CEB179_CARD_PIN && !env.CEB179_CARD_PIN_FILE) env.CEB179_CARD_PIN = 'not-used-by-doctor';
  const config = loadConfig(signerSchema, env);
  assertControlIsLocal(config);
  return { ...config, stateDir: config.stateDir || defaultStateDir() };
}

async function greeting(url: string, timeoutMs: number): Promise<'greeted' | 'silent'> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 5_000 });
    const timer = setTimeout(() => {
      socket.terminate();
      resolve('silent');
    }, timeoutMs);
    socket.on('message', (data) => {
      try {
        if (parseControlFrame(frameText(data)).kind === 'greeting') {
          clearTimeout(timer);
          socket.close();
          resolve('greeted');
        }
      } catch {
        // not the control protocol; keep waiting for the greeting until the timeout
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

async function main(): Promise<number> {
  const firstContact = process.argv.includes('--first-contact');
  const checkPin = process.argv.includes('--check-pin');
  let config: SignerConfig;
  try {
    config = loadDoctorConfig(checkPin || firstContact);
    report({ name: 'configuration', ok: true, detail: `control ${config.eportUrl}; ebpCodes ${config.ebpCodes.join(',') || 'all'}` });
  } catch (error) {
    report({
      name: 'configuration',
      ok: false,
      detail: toAppError(error).message,
      fix: 'set the variable named above (see deploy/windows/signer.env.template)',
    });
    return 1;
  }

  // A running signer owns the control: a second connection could put two calls in flight on the
  // card. Read what the running signer knows instead of asking the card again.
  const running = await runningSigner(config.healthPort);
  if (running) {
    report({
      name: 'signer service',
      ok: running.state === 'ready',
      detail: `running (${running.state}${running.reason ? `: ${running.reason}` : ''}); card checks taken from its /health`,
      fix: 'see docs/operations.md for this state; stop the service to let the doctor test the card directly',
    });
    report({ name: 'certNo', ok: Boolean(running.certNo), detail: `${running.certNo ?? 'unknown'} (${running.algorithm ?? '?'})` });
    report({
      name: 'certificate validity',
      ok: running.daysLeft !== null && running.daysLeft !== undefined && running.daysLeft > EXPIRY_WARNING_DAYS,
      detail: `until ${running.notAfter ?? '?'} (${running.daysLeft ?? '?'} days left)`,
      fix: 'renew the card certificate with the issuer',
    });
    if (checkPin)
      report({
        name: 'PIN',
        ok: running.state !== 'paused-for-pin',
        detail: 'not tried while the service runs (it proves the PIN by signing)',
      });
    await checkBroker(config);
    return summary();
  }

  try {
    const greeted = await greeting(config.eportUrl, config.greetingTimeoutMs);
    report({
      name: 'E-Port control',
      ok: true,
      detail: greeted === 'greeted' ? 'reachable, greeting received' : 'reachable, but no greeting (the signer proceeds without it)',
    });
  } catch (error) {
    report({
      name: 'E-Port control',
      ok: false,
      detail: `not reachable at ${config.eportUrl} (${(error as Error).message})`,
      fix: 'install and start the China E-Port client control (中国电子口岸客户端控件); check nothing blocks 127.0.0.1:61232',
    });
  }

  const logger = createLogger({ service: 'doctor', level: 'silent' });
  // The doctor goes through the same PIN gate and refusal memory as the signer: a PIN this card
  // refused before is never sent, by the signer or by the doctor.
  const pinGate = new PinGate(new FilePinMemory(config.stateDir), config.cardPin, logger);
  const control = new ControlLink({
    url: config.eportUrl,
    callTimeoutMs: config.callTimeoutMs,
    greetingTimeoutMs: config.greetingTimeoutMs,
    secrets: [config.cardPin],
    logger,
    pinGate,
  });
  const card = new Card(control, config.cardPin, pinGate);
  let cardIdentified = false;
  let certificate: CardCertificate | undefined;
  try {
    const reply = await control.call(ControlMethods.getCardId, {});
    if (reply.result) report({ name: 'card', ok: true, detail: `present, card id ${controlText(reply.data[0], '?')}` });
    else
      report({
        name: 'card',
        ok: false,
        detail: reply.errors.join('; '),
        fix: 'insert the OPERATOR card (操作员卡, not the legal-person card) firmly; re-seat it; restart the control',
      });

    certificate = await card.readCertificate();
    cardIdentified = true;
    const daysLeft = Math.floor((certificate.notAfter.getTime() - Date.now()) / 86_400_000);
    report({ name: 'certNo', ok: true, detail: `${certificate.certNo} (${certificate.algorithm}; customs registers it in lowercase)` });
    const valid = certificate.notBefore.getTime() <= Date.now() && daysLeft >= 0;
    report({
      name: 'certificate validity',
      ok: valid && daysLeft > EXPIRY_WARNING_DAYS,
      detail: `${certificate.notBefore.toISOString()} .. ${certificate.notAfter.toISOString()} (${daysLeft} days left)`,
      fix: valid
        ? `renew the card certificate with the issuer: fewer than ${EXPIRY_WARNING_DAYS} days left`
        : 'the certificate is not valid now: renew the card',
    });
  } catch (error) {
    report({
      name: 'card certificate',
      ok: false,
      detail: toAppError(error).message,
      fix: 'check the card is the operator card and the control works (see docs/signer-windows-setup.md)',
    });
  }

  if (checkPin && !cardIdentified) {
    report({
      name: 'PIN',
      ok: false,
      detail: 'not checked: the card could not be identified, so its refusal memory cannot be read',
      fix: 'fix the card checks above first',
    });
  } else if (checkPin && pinGate.state === 'refused') {
    report({
      name: 'PIN',
      ok: false,
      detail: `not sent: ${pinGate.reason}`,
      fix: 'put the right PIN in the PIN file; if you are sure the card was unlocked and the PIN is right, clear the memory: node services/signer/dist/pin-state.js clear',
    });
  } else if (checkPin) {
    process.stdout.write('       checking the PIN: this spends ONE PIN attempt; a few wrong attempts lock the card.\n');
    try {
      const reply = await control.call(ControlMethods.verifyPin, { passwd: config.cardPin }, { carriesPin: true });
      if (reply.result) report({ name: 'PIN', ok: true, detail: 'accepted by the card' });
      else
        report({
          name: 'PIN',
          ok: false,
          detail: `refused: ${reply.errors.join('; ')}`,
          fix: 'correct the PIN file; do NOT try again blindly: the card locks after a few wrong PINs and unlocking needs the issuer',
        });
    } catch (error) {
      report({ name: 'PIN', ok: false, detail: toAppError(error).message });
    }
  } else {
    report({ name: 'PIN', ok: true, detail: 'not checked (run with --check-pin to spend one attempt on it)' });
  }
  if (firstContact) {
    for (const check of await firstContactChecks(config.eportUrl, control, card, pinGate, certificate)) report(check);
  }
  await control.close();
  await checkBroker(config);
  return summary();
}

interface RunningSigner {
  state: string;
  reason: string;
  certNo?: string;
  algorithm?: string;
  notAfter?: string;
  daysLeft?: number | null;
}

async function runningSigner(port: number): Promise<RunningSigner | undefined> {
  if (port === 0) return undefined;
  try {
    const response = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as RunningSigner;
    return typeof body.state === 'string' ? body : undefined;
  } catch {
    return undefined;
  }
}

function summary(): number {
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(failed === 0 ? '\nall checks passed\n' : `\n${failed} check(s) failed\n`);
  return failed === 0 ? 0 : 1;
}

async function checkBroker(config: SignerConfig): Promise<void> {
  let connection: amqp.ChannelModel | undefined;
  try {
    connection = await amqp.connect(config.amqpUrl);
    report({ name: 'RabbitMQ', ok: true, detail: 'reachable, credentials accepted' });
    for (const queue of signJobQueues(config.ebpCodes)) {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        const info = await channel.checkQueue(queue);
        report({
          name: `queue ${queue}`,
          ok: true,
          detail: `exists, ${info.messageCount} jobs waiting, ${info.consumerCount} signers consuming`,
        });
        await channel.close();
      } catch {
        report({
          name: `queue ${queue}`,
          ok: false,
          detail: 'not declared yet',
          fix: 'start the signer once (it declares and binds its queues); check CEB179_SIGNER_EBP_CODES',
        });
      }
    }
  } catch (error) {
    report({
      name: 'RabbitMQ',
      ok: false,
      detail: toAppError(error).message,
      fix: 'check CEB179_AMQP_URL, the outbound firewall (5671/5672) and the user permissions',
    });
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`doctor failed: ${toAppError(error).message}\n`);
    process.exit(2);
  },
);
