/**
 * The ledger: one row per customs call (sessionID), the exact bytes that were signed and
 * uploaded, and one row per upload attempt. Kept at least three years (docs/protocol.md §5).
 */
export const ledger = `
CREATE SCHEMA IF NOT EXISTS ceb179;

CREATE TABLE ceb179.request (
  session_id            text PRIMARY KEY,
  order_no              text NOT NULL,
  customs_service_time  text,                 -- serviceTime as customs sent it (string or number)
  status                text NOT NULL DEFAULT 'received'
                        CHECK (status IN ('received', 'assembled', 'signed', 'uploaded',
                                          'data_fault', 'upload_rejected', 'config_fault')),
  reason                text,                 -- why the request is where it is (faults, retries)
  received_at           timestamptz NOT NULL DEFAULT now(),
  deadline_at           timestamptz NOT NULL,
  published_at          timestamptz,          -- outbox: the callback message reached RabbitMQ
  assembled_at          timestamptz,
  signed_at             timestamptz,
  uploaded_at           timestamptz,
  upload_claimed_at     timestamptz,          -- a reporter is uploading; stale claims are retaken
  ebp_code              text,
  guid                  text,
  service_time          text,                 -- our serviceTime, fixed once, in sign string and upload
  head_json             text,
  lists_json            text,
  sign_string           text,
  cert_no               text,
  sign_value            text,
  signer_id             text,
  customs_code          text,
  customs_message       text,
  late                  boolean NOT NULL DEFAULT false,
  updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX request_unpublished_idx ON ceb179.request (received_at) WHERE published_at IS NULL;
CREATE INDEX request_status_idx ON ceb179.request (status, received_at);
CREATE INDEX request_order_no_idx ON ceb179.request (order_no);

CREATE TABLE ceb179.upload_attempt (
  id               bigserial PRIMARY KEY,
  session_id       text NOT NULL REFERENCES ceb179.request (session_id),
  attempted_at     timestamptz NOT NULL DEFAULT now(),
  latency_ms       integer NOT NULL,
  http_status      integer,
  customs_code     text,
  customs_message  text,
  outcome          text NOT NULL CHECK (outcome IN ('accepted', 'duplicate', 'rejected', 'config_fault', 'transport_fault')),
  error            text
);

CREATE INDEX upload_attempt_session_idx ON ceb179.upload_attempt (session_id, attempted_at);
`;
