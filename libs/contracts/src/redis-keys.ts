/**
 * Every Redis key ceb179 reads or writes, in one place: ingress writes the duplicate hints, the
 * reporter the signers' heartbeats and certificates, and the operator tools (CLI, console,
 * `npm run status`) and the chaos run read or clear them.
 */
export const RedisKeys = {
  /** ingress: "this sessionID was recorded" (a hint only: the ledger is what deduplicates). */
  callback: (sessionID: string) => `ceb179:callback:${sessionID}`,
  /** reporter: sorted set of signer ids by the time of their last heartbeat (ms). */
  signersLastSeen: 'ceb179:signers:last-seen',
  /** reporter: a signer's last heartbeat (JSON), expiring when the heartbeats stop. */
  signer: (signerId: string) => `ceb179:signer:${signerId}`,
  /** reporter: hash certNo -> the card's certificate (base64 DER), kept without expiry so old signatures can be re-verified. */
  certificates: 'ceb179:certificates',
} as const;
