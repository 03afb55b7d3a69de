import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { REFERENCE_FILE, settingsConsumers, workspaceRoot } from './consumers';
import { renderConfigurationReference } from './reference';

/** `npm run docs:config`: rewrites docs/configuration.md from the built schemas. */
const root = workspaceRoot();
const target = path.join(root, REFERENCE_FILE);
writeFileSync(target, renderConfigurationReference(settingsConsumers(root, 'dist')));
process.stdout.write(`wrote ${REFERENCE_FILE}\n`);
