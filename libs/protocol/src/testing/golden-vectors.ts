import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OrderGoodsRow, PaymentOrderRow, PaymentRow, SourcePayment } from '../payment-document';

/** Test support only (not exported by the package): the golden cases of libs/protocol/vectors/vectors.json. */
export interface GoldenCase {
  name: string;
  sessionID: string;
  serviceTime: string;
  guid: string;
  certNo: string;
  signValue: string;
  source: { payment: PaymentRow; payment_order: PaymentOrderRow[]; order_goods: OrderGoodsRow[] };
  expected: { headJson: string; listsJson: string; signString: string; payExInfoStr: string; formBody: string };
}

export interface GoldenSignature {
  algorithm: string;
  publicKeyPem: string;
  publicKeyUncompressedHex?: string;
  signValue: string;
  base64Length: number;
  validForMessage: boolean;
  tamperedMessageMustFail: string;
}

export interface GoldenVectors {
  cases: GoldenCase[];
  amounts: Array<{ numeric: string; json: string }>;
  signatures: { message: string; rsa: GoldenSignature; sm2: GoldenSignature };
}

function isWorkspaceRoot(dir: string): boolean {
  const manifest = path.join(dir, 'package.json');
  if (!existsSync(manifest)) return false;
  const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { workspaces?: unknown };
  return parsed.workspaces !== undefined;
}

/**
 * The golden vectors live in this repository (libs/protocol/vectors/vectors.json) and the tests
 * always read that copy. ceb179 was developed beside an upstream specification directory that
 * holds the same cases; when a checkout sits next to one (`shared`, with `spec` inside, beside the
 * workspace root), a test compares the two so they cannot drift. A plain clone has none and needs none.
 */
export function goldenVectorsPaths(from: string = __dirname): { upstream: string; committed: string } {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (isWorkspaceRoot(dir)) {
      return {
        upstream: path.resolve(dir, '..', 'shared', 'spec', 'vectors.json'),
        committed: path.resolve(dir, 'libs', 'protocol', 'vectors', 'vectors.json'),
      };
    }
    if (path.dirname(dir) === dir) throw new Error(`no npm workspace root above ${from}`);
  }
}

export function goldenVectorsPath(from: string = __dirname): string {
  return goldenVectorsPaths(from).committed;
}

export function loadGoldenVectors(): GoldenVectors {
  return JSON.parse(readFileSync(goldenVectorsPath(), 'utf8')) as GoldenVectors;
}

/** The vectors name the relations (payment_order, order_goods); the API names the roles (orders, goods). */
export function sourceOf(golden: GoldenCase): SourcePayment {
  const clone = JSON.parse(JSON.stringify(golden.source)) as GoldenCase['source'];
  return { payment: clone.payment, orders: clone.payment_order, goods: clone.order_goods };
}
