export { ServiceMetrics, answers, bounded, DEADLINE_BUCKETS, ANSWER_BUCKETS } from './registry';
export { OpsServer, type OpsServerOptions } from './ops-server';
export { metricsPortSetting } from './settings';
export type { Counter, Gauge, Histogram } from 'prom-client';
export { listenBounded, closeGracefully } from './http-listener';
