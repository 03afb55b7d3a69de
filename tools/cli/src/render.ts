import type { RedriveResult } from '@ceb179/mq';
import type { RequestTimeline, SignerCard, VerifyReport } from '@ceb179/operator';

/** Human-readable output of the CLI (--json prints the same data as JSON instead). */

function seconds(ms: number): string {
  return `${(Math.abs(ms) / 1000).toFixed(1)} s`;
}

export function deadlineText(t: RequestTimeline): string {
  const d = t.deadline;
  switch (d.verdict) {
    case 'inside':
      return `uploaded ${seconds(d.marginMs)} inside the 2-minute deadline (${d.deadlineAt})`;
    case 'late':
      return `LATE: uploaded ${seconds(d.marginMs)} after the 2-minute deadline (${d.deadlineAt})`;
    case 'open':
      return `in flight, ${seconds(d.marginMs)} left before the deadline (${d.deadlineAt})`;
    case 'missed':
      return d.settledAt
        ? `MISSED: ended ${t.status} without an upload customs accepted; deadline ${d.deadlineAt}`
        : `MISSED: not uploaded ${seconds(d.marginMs)} past the deadline (${d.deadlineAt})`;
  }
}

export function renderTimeline(t: RequestTimeline): string {
  const lines: string[] = [];
  lines.push(`request ${t.sessionID}   order ${t.orderNo}   ebpCode ${t.ebpCode ?? '-'}`);
  const customs = t.customsCode ? `   customs ${t.customsCode}${t.customsMessage ? ` "${t.customsMessage}"` : ''}` : '';
  lines.push(`status    ${t.status}${t.late ? ' (late)' : ''}${customs}`);
  if (t.reason) lines.push(`reason    ${t.reason}`);
  for (const stage of t.stages) lines.push(`${stage.stage.padEnd(9)} ${stage.at}   +${stage.sinceReceivedMs} ms`);
  lines.push(`deadline  ${deadlineText(t)}`);
  lines.push(
    `document  guid ${t.guid ?? '-'}   serviceTime ${t.serviceTime ?? '-'}   certNo ${t.certNo ?? '-'}   signer ${t.signerId ?? '-'}`,
  );
  lines.push(`upload attempts: ${t.attempts.length}`);
  t.attempts.forEach((a, i) => {
    const code = a.customsCode ? `code ${a.customsCode}${a.customsMessage ? ` "${a.customsMessage}"` : ''}` : 'no customs code';
    lines.push(
      `  ${String(i + 1).padStart(2)}. ${a.attemptedAt}  HTTP ${a.httpStatus ?? '-'}  ${code}  ${a.outcome}  ${a.latencyMs} ms${a.error ? `  ${a.error}` : ''}`,
    );
  });
  return lines.join('\n');
}

export function renderList(rows: RequestTimeline[]): string {
  if (rows.length === 0) return 'none';
  return rows
    .map((t) => {
      const last = t.attempts.at(-1);
      const code = t.customsCode ?? last?.customsCode ?? '';
      return `${t.sessionID}  ${t.orderNo.padEnd(16)} ${t.status.padEnd(15)} ${t.receivedAt}  ${code.padEnd(5)} ${deadlineText(t)}${t.reason ? `  | ${t.reason}` : ''}`;
    })
    .join('\n');
}

export function renderSigners(cards: SignerCard[]): string {
  if (cards.length === 0) return 'no signer has reported';
  return cards
    .map((c) => {
      if (c.silent) return `${c.signerId.padEnd(20)} SILENT since ${c.lastSeenAt}: ${c.reason}`;
      const expiry =
        c.daysLeft === null
          ? ''
          : `   certificate ${c.daysLeft} days left${c.daysLeft <= 30 ? ' (RENEW)' : ''} (until ${c.notAfter ?? '?'})`;
      return `${c.signerId.padEnd(20)} ${c.state.padEnd(15)} certNo ${c.certNo ?? '-'} ${c.algorithm ?? ''}   ebpCodes ${c.ebpCodes.join(',') || 'all'}   last heartbeat ${c.lastSeenAt}   last signature ${c.lastSuccessAt ?? 'none'}${expiry}${c.reason ? `\n${' '.repeat(21)}${c.reason}` : ''}`;
    })
    .join('\n');
}

export function renderVerify(r: VerifyReport): string {
  const c = r.certificate;
  return [
    `request ${r.sessionID}`,
    `certificate  certNo ${c.certNo}  ${c.algorithm}  ${c.subject}  valid ${c.notBefore} .. ${c.notAfter}`,
    `             from ${c.source}`,
    `certNo       ${r.certNoMatches ? 'matches' : `DIFFERS from`} the ledger's ${r.ledgerCertNo}`,
    `sign string  ${r.signStringMatchesDocument ? 'is the one the stored head, lists and serviceTime make' : 'DOES NOT match the stored head, lists and serviceTime'}`,
    `signature    ${r.signatureValid ? 'VALID' : 'INVALID'} over the stored sign string`,
  ].join('\n');
}

export function renderRedrive(result: RedriveResult): string {
  const moved = Object.entries(result.moved);
  const lines = moved.length === 0 ? ['no dead letters moved'] : moved.map(([queue, n]) => `moved ${n} back to ${queue}`);
  if (result.left > 0) lines.push(`${result.left} left in ceb179.dead-letters (another source queue, or none recorded)`);
  return lines.join('\n');
}
