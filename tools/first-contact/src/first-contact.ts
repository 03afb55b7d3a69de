import { loadConfig } from '@ceb179/config';
import { toAppError } from '@ceb179/errors';
import type { CheckResult } from './check';
import { probeIngress } from './ingress-probe';
import { firstContactSchema } from './settings';
import { checkCustomsTls } from './tls-check';

/**
 * `npm run first-contact -- [--customs-url <url>] [--ingress-url <url>] [--timeout-ms <n>]`
 * The customs side of docs/first-contact.md, run from the production network:
 * - the TLS handshake with customs' upload host (chain, expiry, trust; no HTTP request is sent);
 * - a probe of ingress' /platDataOpen carrying customs' User-Agent, with a body that is not an
 *   openReq, so ingress answers 20000 and records nothing.
 * Exit code 0 when every check passed, 1 when one failed, 2 on bad arguments.
 */
interface Arguments {
  customsUrl: string | undefined;
  ingressUrl: string | undefined;
  timeoutMs: number;
}

const USAGE = 'usage: npm run first-contact -- [--customs-url <https url>] [--ingress-url <http url>] [--timeout-ms <n>]';

export function parseArguments(argv: string[]): Arguments {
  const args: Arguments = { customsUrl: undefined, ingressUrl: undefined, timeoutMs: 10_000 };
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value\n${USAGE}`);
    if (flag === '--customs-url') args.customsUrl = value;
    else if (flag === '--ingress-url') args.ingressUrl = value;
    else if (flag === '--timeout-ms') {
      if (!/^[1-9][0-9]*$/.test(value)) throw new Error(`--timeout-ms must be a positive whole number\n${USAGE}`);
      args.timeoutMs = Number(value);
    } else throw new Error(`unknown argument ${flag}\n${USAGE}`);
    i += 1;
  }
  for (const [flag, value] of [
    ['--customs-url', args.customsUrl],
    ['--ingress-url', args.ingressUrl],
  ] as const) {
    if (value === undefined) continue;
    try {
      new URL(value);
    } catch {
      throw new Error(`${flag} is not a URL: ${value}\n${USAGE}`);
    }
  }
  return args;
}

function print(result: CheckResult): void {
  process.stdout.write(`[${result.note ? 'NOTE' : result.ok ? 'OK  ' : 'FAIL'}] ${result.name}\n`);
  for (const line of result.detail) process.stdout.write(`       ${line}\n`);
  if (!result.ok && result.fix) process.stdout.write(`       fix: ${result.fix}\n`);
  if (!result.ok && result.doc) process.stdout.write(`       see: ${result.doc}\n`);
}

async function main(): Promise<number> {
  let args: Arguments;
  try {
    args = parseArguments(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  // Without --customs-url: the URL the reporter would use (CEB179_CUSTOMS_URL, else the test endpoint).
  const customsUrl = args.customsUrl ?? loadConfig(firstContactSchema).customsUrl;
  const results: CheckResult[] = [];
  results.push(await checkCustomsTls(customsUrl, { timeoutMs: args.timeoutMs }));
  print(results[0] as CheckResult);
  if (args.ingressUrl) {
    for (const result of await probeIngress(args.ingressUrl, { timeoutMs: args.timeoutMs })) {
      results.push(result);
      print(result);
    }
  } else {
    process.stdout.write(
      "[SKIP] ingress probe: give --ingress-url http://<your public callback host> to prove customs' User-Agent gets through\n",
    );
  }
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(failed === 0 ? '\nall checks passed\n' : `\n${failed} check(s) failed\n`);
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`first-contact failed: ${toAppError(error).message}\n`);
      process.exit(2);
    },
  );
}
