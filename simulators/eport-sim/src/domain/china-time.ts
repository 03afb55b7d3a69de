const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000; // Asia/Shanghai has had no DST since 1991

/**
 * `yyyyMMddHHmmss` in China time. The control runs on a Windows PC in China and reports
 * certificate validity in its local time (L: no capture shows the zone; China time is the
 * only plausible one for these PCs).
 */
export function chinaTimestamp(date: Date): string {
  return new Date(date.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}
