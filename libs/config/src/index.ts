import { readFileSync } from 'node:fs';
import convict from 'convict';
import { AppError } from '@ceb179/errors';

export { commonSettings } from './common-settings';
export type { Schema } from 'convict';

type Env = Record<string, string | undefined>;

/** A literal default's type widened to what the setting holds: '' -> string, 20 -> number. */
type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? Widen<E>[]
        : T;

/**
 * The settings a convict schema yields, derived from the schema itself: each setting has the type
 * of its `default` (or one of the literals its format lists), nested groups become nested objects. A service's config type is
 * `ConfigOf<typeof schema>`, so a setting added to or dropped from the schema changes the type
 * and the compiler finds every use that no longer fits.
 */
export type ConfigOf<S> = {
  [K in keyof S]: S[K] extends { default: infer D } ? SettingType<D, S[K] extends { format: infer F } ? F : undefined> : ConfigOf<S[K]>;
};

/** A setting whose format is a list of literals (`['RSA', 'SM2'] as const`) holds one of them. */
type SettingType<D, F> = F extends readonly (infer L)[] ? (string extends L ? Widen<D> : L) : Widen<D>;

let formatsRegistered = false;

/** 'a, b,,c' -> ['a', 'b', 'c']: list settings tolerate spaces and stray commas. */
function splitCommaList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

function registerFormats(): void {
  if (formatsRegistered) return;
  formatsRegistered = true;
  const urlWith = (name: string, protocols: string[]) =>
    convict.addFormat({
      name,
      validate(value: unknown) {
        if (typeof value !== 'string' || value === '') throw new Error('must be a non-empty URL');
        let url: URL;
        try {
          url = new URL(value);
        } catch {
          throw new Error('must be a valid URL');
        }
        if (!protocols.includes(url.protocol)) throw new Error(`must start with ${protocols.join(' or ')}//`);
      },
    });
  urlWith('amqp-url', ['amqp:', 'amqps:']);
  urlWith('postgres-url', ['postgres:', 'postgresql:']);
  urlWith('redis-url', ['redis:', 'rediss:']);
  urlWith('ws-url', ['ws:', 'wss:']);
  urlWith('http-url', ['http:', 'https:']);
  convict.addFormat({
    name: 'time-zone',
    validate(value: unknown) {
      try {
        new Intl.DateTimeFormat('en-US', { timeZone: String(value) });
      } catch {
        throw new Error('must be an IANA time zone such as Asia/Shanghai');
      }
    },
  });
  convict.addFormat({
    name: 'ebp-code-list',
    validate(value: unknown) {
      if (!Array.isArray(value)) throw new Error('must be a comma list of ebpCodes');
      for (const code of value) {
        if (typeof code !== 'string' || !/^[0-9A-Za-z]{1,18}$/.test(code)) {
          throw new Error('must be a comma list of ebpCodes (letters and digits, at most 18 each)');
        }
      }
    },
    coerce: splitCommaList,
  });
  convict.addFormat({
    name: 'string-list',
    validate(value: unknown) {
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new Error('must be a comma list');
    },
    coerce: splitCommaList,
  });
  convict.addFormat({
    name: 'required-secret',
    validate(value: unknown) {
      if (typeof value !== 'string' || value === '') throw new Error('must be set (or give <NAME>_FILE, a file holding it)');
    },
  });
  convict.addFormat({
    // A shared MAC key: long enough that guessing it is out of the question (32 characters of
    // `openssl rand -base64 32` or more). Its bytes are the UTF-8 of the text as given.
    name: 'hmac-key',
    validate(value: unknown) {
      if (typeof value !== 'string' || value === '') throw new Error('must be set (or give <NAME>_FILE, a file holding it)');
      if (value.length < 32) throw new Error('must be at least 32 characters (e.g. `openssl rand -base64 32`)');
    },
  });
  convict.addFormat({
    name: 'identifier',
    validate(value: unknown) {
      if (typeof value !== 'string' || !/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
        throw new Error('must be a lowercase SQL identifier (letters, digits, _)');
      }
    },
  });
}

/** Maps a convict key (e.g. `amqpUrl`) to the env name declared for it, for error messages. */
function envNames(schema: object, prefix = ''): Map<string, { env: string; sensitive: boolean }> {
  const names = new Map<string, { env: string; sensitive: boolean }>();
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (value && typeof value === 'object' && 'default' in value) {
      const def = value as { env?: string; sensitive?: boolean };
      if (def.env) names.set(path, { env: def.env, sensitive: Boolean(def.sensitive) });
    } else if (value && typeof value === 'object') {
      for (const [k, v] of envNames(value, path)) names.set(k, v);
    }
  }
  return names;
}

/**
 * Loads and validates one service's settings from the environment, strictly: an unknown key,
 * a bad value or a missing required value stops start-up with an AppError('CONFIG') whose
 * message names the CEB179_* variable (never the value of a secret). Any variable may also be
 * given as `<NAME>_FILE`, the path of a file holding the value (Docker and k8s secrets).
 */
export function loadConfig<S extends object>(schema: S, env: Env = process.env): ConfigOf<S> {
  registerFormats();
  const names = envNames(schema);
  const effective: Env = { ...env };
  for (const { env: name } of names.values()) {
    const file = env[`${name}_FILE`];
    if (file && env[name] === undefined) {
      try {
        effective[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        throw new AppError('CONFIG', `${name}_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
  }
  let config: convict.Config<ConfigOf<S>>;
  try {
    // convict types a schema by reverse inference, which keeps literal defaults ('' rather than
    // string); ConfigOf is the type callers rely on, so the schema is handed over as its schema.
    config = convict<ConfigOf<S>>(schema as convict.Schema<ConfigOf<S>>, { env: effective, args: [] });
    config.validate({ allowed: 'strict' });
  } catch (error) {
    throw new AppError('CONFIG', describeConfigError(error, names), { cause: undefined });
  }
  return config.getProperties();
}

function describeConfigError(error: unknown, names: Map<string, { env: string; sensitive: boolean }>): string {
  const raw = error instanceof Error ? error.message : String(error);
  const lines = raw.split('\n').filter((l) => l.trim() !== '');
  const described = lines.map((line) => {
    const match = /^([\w.]+): (.*)$/.exec(line.trim());
    if (!match) return line;
    const [, key, rest] = match as unknown as [string, string, string];
    const known = names.get(key);
    // convict appends `: value was "..."`; drop it for secrets.
    const problem = known?.sensitive ? rest.replace(/: value was .*$/s, '') : rest;
    return `${known?.env ?? key}: ${problem}`;
  });
  return `invalid configuration: ${described.join('; ')}`;
}
