import path from 'node:path';
import { loadConfig } from '@ceb179/config';
import { assertControlIsLocal, signerSchema } from '../../config';
import type { EnvEntry } from './env-file';

/** Node's own variables a card PC may need in the service's environment. */
const NODE_SETTINGS = ['NODE_EXTRA_CA_CERTS'] as const;
/** Settings whose value is a path on the card PC; relative ones are relative to the install folder. */
const PATH_SETTINGS = new Set<string>(['CEB179_SIGNER_STATE_DIR', 'NODE_EXTRA_CA_CERTS']);
const PLACEHOLDER = /CHANGE-ME|REPLACE-WITH|example\.com/;

interface SettingDefinition {
  env: string;
  sensitive: boolean;
}

/** Every CEB179_* variable of the signer's schema, the one source of what signer.env may hold. */
export function signerSettings(): SettingDefinition[] {
  return Object.values(signerSchema).map((definition) => ({
    env: definition.env,
    sensitive: 'sensitive' in definition && definition.sensitive === true,
  }));
}

export interface CheckedSettings {
  /** In file order, paths made absolute; what the service definition carries. */
  settings: Array<[string, string]>;
  /** Names whose value must not be shown (the broker URL holds a password). */
  sensitive: Set<string>;
  errors: string[];
  warnings: string[];
}

/**
 * Checks signer.env against the signer's own schema, with the signer's own validation, before
 * anything is installed: a setting the signer would refuse at start is refused here, by name. The
 * PIN itself is refused outright: the service definition would store it. Values come from the
 * file only, never from this process's environment.
 */
export function checkSignerSettings(entries: EnvEntry[], installDir: string, source: string): CheckedSettings {
  const definitions = signerSettings();
  const known = new Set<string>([...definitions.map((d) => d.env), ...definitions.map((d) => `${d.env}_FILE`), ...NODE_SETTINGS]);
  const sensitive = new Set(definitions.filter((d) => d.sensitive).map((d) => d.env));
  const errors: string[] = [];
  const warnings: string[] = [];
  const settings: Array<[string, string]> = [];
  const given = new Map(entries.map((entry) => [entry.key, entry.value]));
  // A setting refused below is not checked again by the signer's validation (one message per problem).
  const refused = new Set<string>();

  for (const { key, value, line } of entries) {
    if (key === 'CEB179_CARD_PIN') {
      errors.push(
        `${source} line ${line}: CEB179_CARD_PIN must not be in this file (the service definition would store the PIN). Remove the line; the installer asks for the PIN and writes the file named by CEB179_CARD_PIN_FILE`,
      );
      continue;
    }
    if (!known.has(key)) {
      errors.push(
        `${source} line ${line}: ${key} is not a setting of the signer (see deploy/windows/signer.env.template for every setting)`,
      );
      continue;
    }
    if (key.endsWith('_FILE') && key !== 'CEB179_CARD_PIN_FILE' && given.has(key.slice(0, -'_FILE'.length))) {
      errors.push(`${source} line ${line}: ${key} and ${key.slice(0, -'_FILE'.length)} are both set; keep one`);
      refused.add(key.slice(0, -'_FILE'.length));
      continue;
    }
    if (PLACEHOLDER.test(value)) {
      errors.push(`${source} line ${line}: ${key} still holds the template's placeholder; fill it in`);
      refused.add(key.replace(/_FILE$/, ''));
      continue;
    }
    if (value.includes('%'))
      warnings.push(
        `${key} contains "%": the service wrapper (WinSW) expands %NAME% in its definition; if that changes the value, put it in a file and set ${key}_FILE instead`,
      );
    const isPath = key.endsWith('_FILE') || PATH_SETTINGS.has(key);
    settings.push([key, isPath ? path.win32.resolve(installDir, value) : value]);
  }

  errors.push(...valueErrors(settings, refused));
  const amqpUrl = given.get('CEB179_AMQP_URL');
  if (amqpUrl?.startsWith('amqp://') && !/^amqp:\/\/([^@/]*@)?(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(amqpUrl)) {
    warnings.push('CEB179_AMQP_URL uses amqp:// (no TLS): across any network you do not control, use amqps:// (port 5671)');
  }
  return { settings, sensitive, errors, warnings };
}

/**
 * The signer's own validation of every value given directly. A setting given as <NAME>_FILE is
 * left out (its file may not be readable here; the signer names it at start if it is wrong), so is
 * one already refused above, and so is the PIN, which never comes from signer.env.
 */
function valueErrors(settings: Array<[string, string]>, refused: Set<string>): string[] {
  const env: Record<string, string> = {};
  for (const [key, value] of settings) if (key.startsWith('CEB179_') && !key.endsWith('_FILE')) env[key] = value;
  const byFile = new Set([...refused, ...settings.filter(([key]) => key.endsWith('_FILE')).map(([key]) => key.slice(0, -'_FILE'.length))]);
  const schema = Object.fromEntries(
    Object.entries(signerSchema).filter(([, definition]) => definition.env !== 'CEB179_CARD_PIN' && !byFile.has(definition.env)),
  );
  try {
    // Settings given as files (and the PIN) are left out of this schema: each value may be absent.
    const config: Partial<Record<string, unknown>> = loadConfig(schema, env);
    const eportUrl = typeof config.eportUrl === 'string' ? config.eportUrl : signerSchema.eportUrl.default;
    assertControlIsLocal({ eportUrl, allowRemoteControl: config.allowRemoteControl === true });
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}
