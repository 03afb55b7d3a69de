import { readFileSync } from 'node:fs';
import path from 'node:path';
import { commonSettings } from '@ceb179/config';
import type { SettingsConsumer } from './reference';

/**
 * Where each program's schema lives. Services export theirs from src/config.ts; `migrate`
 * (libs/db/src/cli.ts) and `status` (tools/ops/src/status.ts) compose theirs inline from
 * commonSettings, repeated here. `layout` picks the TypeScript sources (under jest) or the build.
 */
const SERVICE_SCHEMAS: Array<{ name: string; dir: string; file: string; exported: string }> = [
  { name: 'ingress', dir: 'services/ingress', file: 'config', exported: 'ingressSchema' },
  { name: 'assembler', dir: 'services/assembler', file: 'config', exported: 'assemblerSchema' },
  { name: 'reporter', dir: 'services/reporter', file: 'config', exported: 'reporterSchema' },
  { name: 'signer', dir: 'services/signer', file: 'config', exported: 'signerSchema' },
  { name: 'console', dir: 'services/console', file: 'config', exported: 'consoleSchema' },
  { name: 'customs-sim', dir: 'simulators/customs-sim', file: 'config', exported: 'customsSimSchema' },
  { name: 'eport-sim', dir: 'simulators/eport-sim', file: 'config', exported: 'eportSimSchema' },
  { name: 'first-contact', dir: 'tools/first-contact', file: 'settings', exported: 'firstContactSchema' },
];

export function settingsConsumers(root: string, layout: 'src' | 'dist'): SettingsConsumer[] {
  const consumers: SettingsConsumer[] = SERVICE_SCHEMAS.map(({ name, dir, file, exported }) => {
    const modulePath = path.join(root, dir, layout, layout === 'src' ? `${file}.ts` : `${file}.js`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a schema per service, by path (src under jest, dist when generating), so this tool depends on no service package
    const loaded = require(modulePath) as Record<string, unknown>;
    const schema = loaded[exported];
    if (typeof schema !== 'object' || schema === null) throw new Error(`${modulePath} does not export ${exported}`);
    return { name, schema };
  });
  consumers.push({ name: 'migrate', schema: { databaseUrl: commonSettings.databaseUrl, logLevel: commonSettings.logLevel } });
  consumers.push({ name: 'status', schema: { databaseUrl: commonSettings.databaseUrl, redisUrl: commonSettings.redisUrl } });
  // tools/cli/src/cli.ts: `npx ceb179`, the operator's command line.
  consumers.push({
    name: 'ceb179 CLI',
    schema: { databaseUrl: commonSettings.databaseUrl, redisUrl: commonSettings.redisUrl, amqpUrl: commonSettings.amqpUrl },
  });
  return consumers;
}

/** The workspace root: the directory whose package.json declares the workspaces. */
export function workspaceRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { workspaces?: unknown };
      if (manifest.workspaces !== undefined) return dir;
    } catch {
      // no package.json here; keep climbing
    }
    if (path.dirname(dir) === dir) throw new Error(`no npm workspace root above ${from}`);
  }
}

export const REFERENCE_FILE = 'docs/configuration.md';
