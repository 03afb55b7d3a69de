/** The convict setting of the ops listener's port; each service adds it to its schema. */
export function metricsPortSetting(defaultPort: number) {
  return {
    doc: 'Port of the ops listener: GET /metrics (Prometheus), /healthz, /readyz; 0 = any free port (logged)',
    format: 'port',
    default: defaultPort,
    env: 'CEB179_METRICS_PORT',
  } as const;
}
