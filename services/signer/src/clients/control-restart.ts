import { exec } from 'node:child_process';
import { AppError } from '@ceb179/errors';

/** Runs the operator's configured command that restarts the E-Port control (bounded to 2 minutes). */
export function controlRestarter(command: string): (() => Promise<void>) | undefined {
  if (!command) return undefined;
  return () =>
    new Promise<void>((resolve, reject) => {
      exec(command, { timeout: 120_000, windowsHide: true }, (error, _stdout, stderr) => {
        if (error) reject(new AppError('CARD_FAULT', `control restart command failed (${error.code ?? error.signal ?? 'error'}): ${stderr.slice(0, 300)}`));
        else resolve();
      });
    });
}
