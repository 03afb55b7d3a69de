import { readFile } from 'node:fs/promises';
import { AppError } from '@ceb179/errors';

/**
 * Reads one certificate file: either an eport-sim card file (JSON with `certificateBase64`;
 * only that field is used, the private key and PIN in it are ignored) or a certificate as
 * bare base64 or PEM text. Resolves null while the file does not exist yet.
 */
export async function readCertificateFile(path: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AppError('CONFIG', `certificate file ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  let json: unknown;
  try {
    json = JSON.parse(trimmed);
  } catch {
    throw new AppError('CONFIG', `certificate file ${path}: looks like JSON but does not parse`);
  }
  const certificate = (json as Record<string, unknown>)['certificateBase64'];
  if (typeof certificate !== 'string' || certificate === '') {
    throw new AppError('CONFIG', `certificate file ${path}: JSON without a certificateBase64 field`);
  }
  return certificate;
}
