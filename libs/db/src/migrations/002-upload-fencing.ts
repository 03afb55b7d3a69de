/**
 * Upload claims that can be proven: every claim carries a fencing token, so only its holder can
 * finish or release it (a reporter that stalled past the stale-claim time cannot overwrite what
 * the one that took over recorded), and a count of claims, so a customs 20006 can be told apart:
 * "an earlier attempt may have reached customs" vs. "nothing of ours can be stored there yet".
 * reached_customs on an attempt is false when the request certainly never got there (connection
 * refused, name not resolved, TLS refused), null when it may have.
 */
export const uploadFencing = `
ALTER TABLE ceb179.request
  ADD COLUMN upload_claim_token uuid,
  ADD COLUMN upload_claims integer NOT NULL DEFAULT 0;

ALTER TABLE ceb179.upload_attempt
  ADD COLUMN reached_customs boolean;
`;
