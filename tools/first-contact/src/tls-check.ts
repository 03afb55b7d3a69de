import { connect, checkServerIdentity, type DetailedPeerCertificate, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { CheckResult } from './check';

export interface TlsCheckOptions {
  timeoutMs: number;
  /** Extra trusted CAs (PEM), as NODE_EXTRA_CA_CERTS adds them; for tests. */
  ca?: string[];
  now?: Date;
}

const DAY_MS = 86_400_000;

function name(subject: PeerCertificate['subject'] | undefined): string {
  if (!subject) return '?';
  const cn = subject.CN;
  const org = subject.O;
  return [Array.isArray(cn) ? cn.join('+') : cn, Array.isArray(org) ? org.join('+') : org].filter(Boolean).join(', ') || '?';
}

/** The chain as the server sent it, leaf first; stops at a self-signed certificate or a repeat. */
function chainOf(leaf: DetailedPeerCertificate): DetailedPeerCertificate[] {
  const chain: DetailedPeerCertificate[] = [];
  const seen = new Set<string>();
  for (
    let cert: DetailedPeerCertificate | undefined = leaf;
    cert && cert.fingerprint256 && !seen.has(cert.fingerprint256);
    cert = cert.issuerCertificate
  ) {
    seen.add(cert.fingerprint256);
    chain.push(cert);
  }
  return chain;
}

/**
 * Opens a TLS connection to the customs upload URL's host, exactly as the reporter's HTTPS client
 * will (Node's trust store plus NODE_EXTRA_CA_CERTS), and reports the chain, the expiry and whether
 * it is trusted. Sends no HTTP request: nothing reaches customs' application.
 */
export async function checkCustomsTls(customsUrl: string, options: TlsCheckOptions): Promise<CheckResult> {
  const url = new URL(customsUrl);
  const checkName = `customs TLS (${url.host})`;
  if (url.protocol !== 'https:') {
    return {
      name: checkName,
      ok: false,
      detail: [`${customsUrl} is not https`],
      fix: 'customs uploads go over HTTPS: set CEB179_CUSTOMS_URL to the https endpoint (docs/integration-guide.md)',
    };
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const now = options.now ?? new Date();
  let socket: TLSSocket | undefined;
  try {
    const outcome = await new Promise<{ socket: TLSSocket }>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket?.destroy();
        reject(
          new Error(`no TLS handshake within ${options.timeoutMs} ms (a firewall dropping the connection, or no route from this network)`),
        );
      }, options.timeoutMs);
      socket = connect({
        host,
        port,
        // An IP address cannot be a server name (SNI); the name check below still runs.
        servername: /^[0-9.:]+$/.test(host) ? undefined : host,
        // Trust is judged below, so an untrusted chain can still be shown.
        rejectUnauthorized: false,
        ...(options.ca ? { ca: options.ca } : {}),
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        resolve({ socket: socket as TLSSocket });
      });
      socket.once('error', (error: Error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    const peer = outcome.socket.getPeerCertificate(true);
    if (!peer || !peer.subject) throw new Error('the server sent no certificate');
    const chain = chainOf(peer);
    const detail = chain.map((cert, i) => {
      const daysLeft = Math.floor((new Date(cert.valid_to).getTime() - now.getTime()) / DAY_MS);
      return `${i === 0 ? 'server' : `issuer ${i}`}: ${name(cert.subject)} — issued by ${name(cert.issuer)}; valid until ${new Date(cert.valid_to).toISOString()} (${daysLeft} days left)`;
    });
    detail.push(`protocol ${outcome.socket.getProtocol() ?? '?'}`);
    const identityError = checkServerIdentity(host, peer);
    const leafDaysLeft = Math.floor((new Date(peer.valid_to).getTime() - now.getTime()) / DAY_MS);
    if (!outcome.socket.authorized) {
      return {
        name: checkName,
        ok: false,
        detail: [...detail, `not trusted: ${String(outcome.socket.authorizationError)}`],
        fix:
          "the chain does not lead to a CA this Node.js trusts. If your network inspects TLS (a proxy re-signing traffic) or customs' chain needs an " +
          'intermediate/root Node does not ship, put that CA certificate (PEM) in a file and start the reporter (and this check) with ' +
          'NODE_EXTRA_CA_CERTS=<file>. Never disable certificate checks.',
        doc: 'docs/first-contact.md#customs-tls',
      };
    }
    if (identityError) {
      return {
        name: checkName,
        ok: false,
        detail: [...detail, `name mismatch: ${identityError.message}`],
        fix: 'the certificate is not for this host name: check CEB179_CUSTOMS_URL, and any proxy in between',
        doc: 'docs/first-contact.md#customs-tls',
      };
    }
    if (leafDaysLeft < 0) {
      return {
        name: checkName,
        ok: false,
        detail: [...detail, 'the server certificate has expired'],
        fix: "check this machine's clock; if it is right, customs must renew",
        doc: 'docs/first-contact.md#customs-tls',
      };
    }
    return { name: checkName, ok: true, detail: [...detail, 'trusted, name matches'] };
  } catch (error) {
    return {
      name: checkName,
      ok: false,
      detail: [(error as Error).message],
      fix:
        'this network cannot complete a TLS handshake with customs: check outbound HTTPS (443) to the customs host from the production ' +
        'network, DNS, and any proxy. If a TLS-inspecting proxy is in the way, give its CA with NODE_EXTRA_CA_CERTS=<file>.',
      doc: 'docs/first-contact.md#customs-tls',
    };
  } finally {
    socket?.destroy();
  }
}
