/**
 * Component, e2e and disruptive files use the real RabbitMQ, Postgres and Redis. A unit file that ran
 * before in the same jest worker and failed to load never removed its connection guard
 * (no-infrastructure.ts): put Node's own net.Socket#connect back before this file's imports run.
 */
import { restoreSocketConnect } from './socket-connect';

restoreSocketConnect();
