import { BlockList, isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '@ceb179/errors';
import type { Logger } from '@ceb179/logger';
import { sendCustomsReply } from './customs-reply.writer';

/**
 * Parses CEB179_INGRESS_ALLOWED_SOURCES entries (addresses or CIDR blocks, IPv4 or IPv6).
 * Throws with the offending entry, so a typo stops start-up instead of opening the door.
 */
export function parseAllowList(entries: string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  const list = new BlockList();
  for (const entry of entries) {
    const [address, prefix] = entry.split('/') as [string, string | undefined];
    const family = isIP(address);
    if (family === 0) throw new AppError('CONFIG', `CEB179_INGRESS_ALLOWED_SOURCES: "${entry}" is not an IP address or CIDR block`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address, type);
      continue;
    }
    const bits = Number(prefix);
    if (!/^\d{1,3}$/.test(prefix) || bits > (family === 4 ? 32 : 128)) {
      throw new AppError('CONFIG', `CEB179_INGRESS_ALLOWED_SOURCES: "${entry}" has an invalid prefix length`);
    }
    list.addSubnet(address, bits, type);
  }
  return list;
}

function normalise(address: string): { address: string; type: 'ipv4' | 'ipv6' } {
  // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return { address: mapped[1] as string, type: 'ipv4' };
  return { address, type: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
}

/**
 * Only customs' source addresses may call the callback endpoint, when a list is configured
 * (docs/protocol.md §1: production is plain http on port 80, so this is the first line of defence).
 * A refused caller gets the customs-shaped 20000 reply and nothing is recorded.
 */
export function sourceAllowList(list: BlockList | undefined, logger: Logger) {
  return (request: Request, response: Response, next: NextFunction): void => {
    if (!list) return next();
    const { address, type } = normalise(request.ip ?? request.socket.remoteAddress ?? '');
    if (address && list.check(address, type)) return next();
    logger.warn({ source: address, path: request.path }, 'call from an address outside CEB179_INGRESS_ALLOWED_SOURCES refused');
    sendCustomsReply(response, '20000', 'source address not allowed', 403);
  };
}
