import { AppError } from '@ceb179/errors';

/** docs/protocol.md §2: tradingTime is China time; docs/data-source-mapping.md §1 makes the zone a setting (CEB179_TIMEZONE). */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

// An explicit offset is required: a zone-less text would be read in the host's zone, which is a guess.
const ISO_WITH_OFFSET =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?(Z|z|[+-][0-9]{2}(?::?[0-9]{2})?)$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-US', {
        timeZone,
        // h23, not hour12:false: the latter prints midnight as "24" on some ICU versions.
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      });
    } catch (cause) {
      throw new AppError('CONFIG', `unknown time zone ${JSON.stringify(timeZone)}`, { cause });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Returns epoch ms of an ISO-8601 text with offset, or why it cannot be read. */
function parseIsoWithOffset(text: string): number | string {
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m) return `is not an ISO-8601 time with an offset (${JSON.stringify(text.slice(0, 40))})`;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(local);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return `is not a valid calendar time (${JSON.stringify(text)})`;
  }
  const zone = m[7] ?? 'Z';
  let offsetMinutes = 0;
  if (zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (hours > 23 || minutes > 59) return `has a bad offset (${JSON.stringify(zone)})`;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (hours * 60 + minutes);
  }
  return local - offsetMinutes * 60_000;
}

function fault(problem: string): AppError {
  return new AppError('DATA_FAULT', `tradingTime ${problem}`, { fields: [{ field: 'tradingTime', problem }] });
}

/**
 * A timestamptz (Date from pg, or ISO text) -> yyyyMMddHHmmss in `timeZone`.
 * Fractions of a second are dropped, as Postgres' to_char does; rounding up could move the day.
 */
export function formatTradingTime(time: Date | string, timeZone: string = DEFAULT_TIME_ZONE): string {
  const formatter = formatterFor(timeZone);
  let epochMs: number;
  if (time instanceof Date) {
    epochMs = time.getTime();
    if (Number.isNaN(epochMs)) throw fault('is an invalid Date');
  } else if (typeof time === 'string') {
    const parsed = parseIsoWithOffset(time);
    if (typeof parsed === 'string') throw fault(parsed);
    epochMs = parsed;
  } else {
    throw fault(`is neither a Date nor a time text (${time === null ? 'null' : typeof time})`);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(new Date(epochMs))) parts[part.type] = part.value;
  const year = parts['year'] ?? '';
  if (!/^[0-9]{4}$/.test(year)) throw fault(`falls outside years 1000-9999 (${year})`);
  const text = `${year}${parts['month']}${parts['day']}${parts['hour']}${parts['minute']}${parts['second']}`;
  if (!/^[0-9]{14}$/.test(text)) throw fault(`could not be formatted (${text})`);
  return text;
}
