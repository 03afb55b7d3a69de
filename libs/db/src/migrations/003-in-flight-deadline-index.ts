/**
 * The operators' questions "what is in flight, and since when / past its deadline?" (metrics
 * ceb179_oldest_in_flight_seconds and ceb179_late_requests, `npx ceb179 list --in-flight|--late`)
 * read only the few unfinished rows. Built CONCURRENTLY: on a ledger of three years' requests a
 * plain CREATE INDEX would block the services' writes while it runs. A failed concurrent build
 * leaves an INVALID index behind, which the DROP first removes.
 */
export const inFlightDeadlineIndex = [
  `
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname = 'ceb179' AND c.relname = 'request_in_flight_deadline_idx' AND NOT i.indisvalid) THEN
    DROP INDEX ceb179.request_in_flight_deadline_idx;
  END IF;
END $$`,
  // One statement on its own: several in one query text form an implicit transaction.
  `CREATE INDEX CONCURRENTLY IF NOT EXISTS request_in_flight_deadline_idx ON ceb179.request (deadline_at, received_at)
  WHERE status IN ('received', 'assembled', 'signed')`,
];
