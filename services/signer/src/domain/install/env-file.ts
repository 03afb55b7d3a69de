/** One KEY=VALUE line of signer.env. */
export interface EnvEntry {
  key: string;
  value: string;
  line: number;
}

/**
 * signer.env: KEY=VALUE lines; blank lines and lines starting with # are skipped; the value is
 * everything after the first "=", trimmed, with one pair of surrounding quotes removed (a "#"
 * after a value is part of it). An empty value means "the signer's default" and is left out.
 * Notepad may save a byte-order mark: it is dropped. Error messages never quote a value (the
 * file holds the broker password).
 */
export function parseEnvFile(text: string, source: string): { entries: EnvEntry[]; errors: string[] } {
  const entries: EnvEntry[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .forEach((raw, index) => {
      const line = index + 1;
      const trimmed = raw.trim();
      if (trimmed === '' || trimmed.startsWith('#')) return;
      const equals = trimmed.indexOf('=');
      if (equals < 1) {
        errors.push(`${source} line ${line}: not KEY=VALUE`);
        return;
      }
      const key = trimmed.slice(0, equals).trim();
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
        errors.push(`${source} line ${line}: "${key}" is not a variable name`);
        return;
      }
      const value = unquote(trimmed.slice(equals + 1).trim());
      if (value === '') return;
      if (seen.has(key)) {
        errors.push(`${source} line ${line}: ${key} is set twice`);
        return;
      }
      seen.add(key);
      entries.push({ key, value, line });
    });
  return { entries, errors };
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) return value.slice(1, -1);
  return value;
}
