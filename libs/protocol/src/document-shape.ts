import type { JsonNode } from './json-scanner';

/** docs/protocol.md §2: the key order is part of the contract, because customs rebuilds the signed text. */
export const HEAD_KEYS = [
  'guid',
  'initalRequest', // (sic) as in the official document
  'initalResponse', // (sic)
  'ebpCode',
  'payCode',
  'payTransactionId',
  'totalAmount',
  'currency',
  'verDept',
  'payType',
  'tradingTime',
  'note',
] as const;

export const LIST_ITEM_KEYS = ['orderNo', 'goodsInfo', 'recpAccount', 'recpCode', 'recpName'] as const;
export const GOODS_KEYS = ['gname', 'itemLink'] as const;

/** Maximum lengths from the protocol tables, in characters (Unicode code points). */
export const MAX_LENGTH = {
  guid: 36,
  initalRequest: 8000,
  initalResponse: 8000,
  ebpCode: 18,
  payCode: 18,
  payTransactionId: 60,
  currency: 4,
  verDept: 1,
  payType: 1,
  tradingTime: 14,
  note: 1000,
  orderNo: 60,
  gname: 250,
  itemLink: 3000,
  recpAccount: 60,
  recpCode: 18,
  recpName: 100,
} as const;

export const VER_DEPT_VALUES = ['1', '2', '3'] as const;
export const PAY_TYPE_VALUES = ['', '1', '2', '3', '4'] as const;

function keysOf(node: JsonNode & { kind: 'object' }): string[] {
  return node.members.map((m) => m.key);
}

function sameKeys(node: JsonNode & { kind: 'object' }, expected: readonly string[]): boolean {
  const keys = keysOf(node);
  return keys.length === expected.length && keys.every((k, i) => k === expected[i]);
}

/** Why a scanned head is not a 179 head (keys exactly in table order, strings, totalAmount a number), or null. */
export function headShapeProblem(node: JsonNode): string | null {
  if (node.kind !== 'object') return 'payExchangeInfoHead is not a JSON object';
  if (!sameKeys(node, HEAD_KEYS)) {
    return `payExchangeInfoHead keys must be exactly ${HEAD_KEYS.join(',')} in this order (got ${keysOf(node).join(',')})`;
  }
  for (const member of node.members) {
    const wanted = member.key === 'totalAmount' ? 'number' : 'string';
    if (member.value.kind !== wanted) return `payExchangeInfoHead.${member.key} must be a JSON ${wanted}`;
  }
  return null;
}

/** Why a scanned list is not a 179 payExchangeInfoLists array, or null. */
export function listsShapeProblem(node: JsonNode): string | null {
  if (node.kind !== 'array') return 'payExchangeInfoLists is not a JSON array';
  if (node.items.length === 0) return 'payExchangeInfoLists is empty';
  for (const [i, item] of node.items.entries()) {
    const at = `payExchangeInfoLists[${i}]`;
    if (item.kind !== 'object') return `${at} is not a JSON object`;
    if (!sameKeys(item, LIST_ITEM_KEYS)) {
      return `${at} keys must be exactly ${LIST_ITEM_KEYS.join(',')} in this order (got ${keysOf(item).join(',')})`;
    }
    for (const member of item.members) {
      if (member.key === 'goodsInfo') {
        const goods = member.value;
        if (goods.kind !== 'array') return `${at}.goodsInfo is not a JSON array`;
        if (goods.items.length === 0) return `${at}.goodsInfo is empty`;
        for (const [j, line] of goods.items.entries()) {
          const lineAt = `${at}.goodsInfo[${j}]`;
          if (line.kind !== 'object') return `${lineAt} is not a JSON object`;
          if (!sameKeys(line, GOODS_KEYS)) {
            return `${lineAt} keys must be exactly ${GOODS_KEYS.join(',')} in this order (got ${keysOf(line).join(',')})`;
          }
          for (const field of line.members) {
            if (field.value.kind !== 'string') return `${lineAt}.${field.key} must be a JSON string`;
          }
        }
      } else if (member.value.kind !== 'string') {
        return `${at}.${member.key} must be a JSON string`;
      }
    }
  }
  return null;
}
