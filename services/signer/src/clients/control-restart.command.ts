import { exec } from 'node:child_process';
import { AppError } from '@ceb179/errors';

/** Variables a child process never inherits: the PIN, and anything holding the same text. */
export function environmentWithoutSecrets(env: NodeJS.ProcessEnv, secrets: string[]): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (/^CEB179_CARD_PIN(_FILE)?$/.test(name)) continue;
    if (value !== undefined && secrets.some((secret) => secret !== '' && value.includes(secret))) continue;
    clean[name] = value;
  }
  return clean;
}

/**
 * Runs the operator's configured command that restarts the E-Port control (bounded to 2 minutes),
 * in an environment without the PIN: the command is someone else's program.
 */
export function controlRestarter(command: string, secrets: string[]): (() => Promise<void>) | undefined {
  if (!command) return undefined;
  return () =>
    new Promise<void>((resolve, reject) => {
      exec(
        command,
        { timeout: 120_000, windowsHide: true, env: environmentWithoutSecrets(process.env, secrets) },
        (error, _stdout, stderr) => {
          if (error)
            reject(
              new AppError(
                'CARD_FAULT',
                `control restart command failed (${error.code ?? error.signal ?? 'error'}): ${stderr.slice(0, 300)}`,
              ),
            );
          else resolve();
        },
      );
    });
}
