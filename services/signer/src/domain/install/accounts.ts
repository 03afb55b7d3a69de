import { createHash } from 'node:crypto';

/** Well-known SIDs: account names are translated on non-English Windows, SIDs are not. */
export const WELL_KNOWN_SIDS = {
  system: 'S-1-5-18',
  localService: 'S-1-5-19',
  networkService: 'S-1-5-20',
  administrators: 'S-1-5-32-544',
} as const;

/** Someone an access rule is for: a SID known now, or an account Windows resolves at run time. */
export type Principal = { label: string; sid: string } | { label: string; account: string };

export const SYSTEM: Principal = { label: 'SYSTEM', sid: WELL_KNOWN_SIDS.system };
export const ADMINISTRATORS: Principal = { label: 'Administrators', sid: WELL_KNOWN_SIDS.administrators };

export type AccountKind = 'LocalSystem' | 'BuiltIn' | 'Virtual' | 'Managed' | 'User';

export interface ServiceAccount {
  /** As the service manager takes it (sc.exe obj=). */
  name: string;
  kind: AccountKind;
  principal: Principal;
  /** A local or domain user: the installer asks for its password (never stored, never shown). */
  needsPassword: boolean;
  /** Users and group managed service accounts need "Log on as a service"; the others have it. */
  needsLogonRight: boolean;
}

/**
 * The SID of the virtual account NT SERVICE\<name>: S-1-5-80 followed by the SHA-1 of the
 * upper-cased service name in UTF-16LE, read as five little-endian 32-bit numbers. Computing it
 * lets the access rules name the account before its service exists.
 */
export function virtualAccountSid(serviceName: string): string {
  const hash = createHash('sha1').update(serviceName.toUpperCase(), 'utf16le').digest();
  const parts = [0, 1, 2, 3, 4].map((index) => hash.readUInt32LE(index * 4));
  return `S-1-5-80-${parts.join('-')}`;
}

const LOCAL_SYSTEM = /^(LocalSystem|\.\\LocalSystem|NT AUTHORITY\\SYSTEM)$/i;
const LOCAL_SERVICE = /^NT AUTHORITY\\(LocalService|Local Service)$/i;
const NETWORK_SERVICE = /^NT AUTHORITY\\(NetworkService|Network Service)$/i;
const VIRTUAL = /^NT SERVICE\\(.+)$/i;
// DOMAIN\name or .\name; characters Windows forbids in account names are refused here.
const QUALIFIED_ACCOUNT = /^[^\\"/[\]:;|=,+*?<>]+\\[^\\"/[\]:;|=,+*?<>@]{1,104}$/;

/**
 * The account the service runs as: the one asked for, else the one an existing service runs as,
 * else LocalSystem (so re-running the installer never changes the account by accident).
 */
export function resolveServiceAccount(serviceName: string, requested?: string, current?: string): ServiceAccount | string {
  const name = (requested || current || 'LocalSystem').trim();
  if (LOCAL_SYSTEM.test(name))
    return { name: 'LocalSystem', kind: 'LocalSystem', principal: SYSTEM, needsPassword: false, needsLogonRight: false };
  if (LOCAL_SERVICE.test(name)) {
    return {
      name: 'NT AUTHORITY\\LocalService',
      kind: 'BuiltIn',
      principal: { label: 'LocalService', sid: WELL_KNOWN_SIDS.localService },
      needsPassword: false,
      needsLogonRight: false,
    };
  }
  if (NETWORK_SERVICE.test(name)) {
    return {
      name: 'NT AUTHORITY\\NetworkService',
      kind: 'BuiltIn',
      principal: { label: 'NetworkService', sid: WELL_KNOWN_SIDS.networkService },
      needsPassword: false,
      needsLogonRight: false,
    };
  }
  const virtual = VIRTUAL.exec(name);
  if (virtual) {
    if (virtual[1]!.toLowerCase() !== serviceName.toLowerCase()) {
      return `--service-account ${name}: a virtual account belongs to the service of the same name; use NT SERVICE\\${serviceName}`;
    }
    const account = `NT SERVICE\\${serviceName}`;
    return {
      name: account,
      kind: 'Virtual',
      principal: { label: account, sid: virtualAccountSid(serviceName) },
      needsPassword: false,
      needsLogonRight: false,
    };
  }
  if (!QUALIFIED_ACCOUNT.test(name)) {
    return `--service-account ${name}: name the account with its domain, e.g. .\\ceb179svc (this PC), DOMAIN\\user, DOMAIN\\gmsa$ or NT SERVICE\\${serviceName}`;
  }
  if (name.endsWith('$'))
    return { name, kind: 'Managed', principal: { label: name, account: name }, needsPassword: false, needsLogonRight: true };
  return { name, kind: 'User', principal: { label: name, account: name }, needsPassword: true, needsLogonRight: true };
}

export function samePrincipal(a: Principal, b: Principal): boolean {
  return 'sid' in a && 'sid' in b ? a.sid === b.sid : a.label.toLowerCase() === b.label.toLowerCase();
}
