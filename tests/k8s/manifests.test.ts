import { Queues } from '@ceb179/contracts';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import yaml from 'js-yaml';
import { repoRoot } from '@ceb179/testkit';

/**
 * CI renders every overlay with `kubectl kustomize` and validates each object offline: Kubernetes
 * kinds against the Kubernetes schemas (kubernetes-models), KEDA and Prometheus Operator kinds
 * against their CRD schemas, RabbitMQ operator kinds against the schemas in k8s/schemas; then the
 * operability rules of issue 9 (probes, replicas, PDBs, hardening, scaling, policies, alerts).
 */
type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each kind's spec has its own shape; the rules below walk the YAML as rendered
  spec?: any;
  data?: Record<string, string>;
};

const root = repoRoot();
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const describeWithKubectl = kubectl.status === 0 ? describe : describe.skip;
if (kubectl.status !== 0)
  process.stdout.write('SKIPPING the k8s manifest tests: kubectl is missing (scripts/bootstrap.sh --test-tools installs it)\n');

/** apiVersion/kind -> the packaged model whose validate() checks the object against its schema. */
const MODELS: Record<string, string> = {
  'v1/Namespace': 'kubernetes-models/v1/Namespace',
  'v1/ConfigMap': 'kubernetes-models/v1/ConfigMap',
  'v1/Service': 'kubernetes-models/v1/Service',
  'apps/v1/Deployment': 'kubernetes-models/apps/v1/Deployment',
  'batch/v1/Job': 'kubernetes-models/batch/v1/Job',
  'policy/v1/PodDisruptionBudget': 'kubernetes-models/policy/v1/PodDisruptionBudget',
  'networking.k8s.io/v1/NetworkPolicy': 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy',
  'keda.sh/v1alpha1/ScaledObject': '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject',
  'keda.sh/v1alpha1/TriggerAuthentication': '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication',
  'monitoring.coreos.com/v1/ServiceMonitor': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule',
};
const ajv = new Ajv({ allErrors: true, strict: false });
const SCHEMAS = new Map(
  readdirSync(path.join(root, 'k8s/schemas'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const [group, version, kind] = f.replace(/\.json$/, '').split('_') as [string, string, string];
      return [`${group}/${version}/${kind}`, ajv.compile(JSON.parse(readFileSync(path.join(root, 'k8s/schemas', f), 'utf8')))];
    }),
);

function validate(object: K8sObject): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const model = MODELS[key];
  if (model) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the kubernetes-models module is picked per kind at run time
    const Model = (require(model) as Record<string, new (data: unknown) => { validate(): void }>)[object.kind];
    if (!Model) throw new Error(`${model} has no ${object.kind}`);
    new Model(object).validate();
    return;
  }
  const schema = SCHEMAS.get(key);
  if (!schema) throw new Error(`unknown apiVersion/kind ${key} (${object.metadata?.name})`);
  const name = object.metadata.name; // read before the schema's type guard narrows `object`
  if (!schema(object)) throw new Error(`${key} ${name}: ${ajv.errorsText(schema.errors)}`);
}

function render(overlay: string): K8sObject[] {
  const text = execFileSync('kubectl', ['kustomize', path.join(root, 'k8s/overlays', overlay)], { encoding: 'utf8', timeout: 60_000 });
  return (yaml.loadAll(text) as K8sObject[]).filter(Boolean);
}

/** Every ceb179_* metric name the services register (libs and services source). */
function registeredMetricNames(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name === 'test') continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        for (const m of readFileSync(full, 'utf8').matchAll(/['"](ceb179_[a-z_]+)['"]/g)) names.add(m[1] as string);
      }
    }
  };
  walk(path.join(root, 'services'));
  walk(path.join(root, 'libs'));
  return names;
}

/** A metric a PromQL expression or dashboard names, with histogram suffixes taken off. */
function metricFamilies(text: string): string[] {
  return [...new Set([...text.matchAll(/\b(ceb179_[a-z_]+)/g)].map((m) => (m[1] as string).replace(/_(bucket|sum|count)$/, '')))];
}

describe('the offline validator', () => {
  it('refuses objects that break their schema, and kinds it does not know', () => {
    const broken: [string, K8sObject][] = [
      [
        'replicas must be integer',
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two', selector: {}, template: {} } },
      ],
      [
        'required property triggers',
        { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'x' }, spec: { scaleTargetRef: { name: 'x' } } },
      ],
      [
        'must be string',
        {
          apiVersion: 'monitoring.coreos.com/v1',
          kind: 'ServiceMonitor',
          metadata: { name: 'x' },
          spec: { selector: {}, endpoints: [{ port: 9464 }] },
        },
      ],
      [
        'must NOT have additional properties',
        {
          apiVersion: 'rabbitmq.com/v1beta1',
          kind: 'Permission',
          metadata: { name: 'x' },
          spec: {
            vhost: 'v',
            user: 'u',
            permissions: { configure: '', write: '', read: '', admin: '' },
            rabbitmqClusterReference: { name: 'c' },
          },
        },
      ],
      [
        "required property 'rabbitmqClusterReference'",
        { apiVersion: 'rabbitmq.com/v1beta1', kind: 'User', metadata: { name: 'x' }, spec: {} },
      ],
      ['unknown apiVersion/kind', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x' }, spec: {} }],
    ];
    for (const [problem, object] of broken) expect(() => validate(object)).toThrow(problem);
  });
});

describeWithKubectl.each(['test', 'production'])('k8s overlay %s', (overlay) => {
  let objects: K8sObject[];
  const of = (kind: string) => objects.filter((o) => o.kind === kind);
  const named = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);

  beforeAll(() => {
    objects = render(overlay);
  });

  it('renders and every object validates against its schema', () => {
    expect(objects.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const object of objects) {
      try {
        validate(object);
      } catch (error) {
        failures.push(`${object.kind}/${object.metadata?.name}: ${(error as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
    const namespace = overlay === 'production' ? 'ceb179' : 'ceb179-test';
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) expect(object.metadata.namespace).toBe(namespace);
  });

  it('runs every cloud service with 2+ replicas, a PDB, hardened pods, limits and probes on its real endpoints', () => {
    const deployments = of('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['assembler', 'console', 'ingress', 'reporter']);
    for (const d of deployments) {
      const name = d.metadata.name;
      expect([name, d.spec.replicas]).toEqual([name, expect.any(Number)]);
      expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
      const pdb = of('PodDisruptionBudget').find((p) => p.spec.selector.matchLabels.app === name);
      expect(pdb?.spec.minAvailable ?? pdb?.spec.maxUnavailable).toBeDefined();
      const pod = d.spec.template.spec;
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        });
        expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        expect(c.resources.limits).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
        const ports = new Set((c.ports ?? []).map((p: { name: string }) => p.name));
        for (const probe of ['readinessProbe', 'livenessProbe'] as const) {
          expect([name, probe, c[probe]?.httpGet?.path]).toEqual([name, probe, probe === 'readinessProbe' ? '/readyz' : '/healthz']);
          expect(ports.has(c[probe].httpGet.port)).toBe(true);
        }
        // The ops listener serves /metrics on the port the ServiceMonitor scrapes.
        const metricsPort = c.env.find((e: { name: string }) => e.name === 'CEB179_METRICS_PORT')?.value;
        expect(c.ports.find((p: { name: string }) => p.name === 'ops')?.containerPort).toBe(Number(metricsPort));
        const opsService = of('Service').find((s) => s.metadata.labels?.['ceb179.io/metrics'] === 'true' && s.spec.selector.app === name);
        expect(opsService?.spec.ports[0]).toMatchObject({ name: 'ops', targetPort: 'ops' });
      }
    }
  });

  it('scales assembler and reporter with KEDA on their RabbitMQ queues, never below 2', () => {
    const scaled = of('ScaledObject').map((s) => [
      s.spec.scaleTargetRef.name,
      s.spec.minReplicaCount,
      s.spec.triggers[0].type,
      s.spec.triggers[0].metadata.queueName,
    ]);
    expect(scaled.sort()).toEqual([
      ['assembler', 2, 'rabbitmq', Queues.callbacks],
      ['reporter', 2, 'rabbitmq', Queues.signatures],
    ]);
    for (const s of of('ScaledObject')) expect(named('TriggerAuthentication', s.spec.triggers[0].authenticationRef.name)).toBeDefined();
  });

  it('denies all traffic by default; only the reporter may leave for the internet (customs)', () => {
    const policies = of('NetworkPolicy');
    expect(policies.find((p) => p.metadata.name === 'default-deny-all')?.spec).toEqual({
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
    });
    const toInternet = policies.filter((p) =>
      (p.spec.egress ?? []).some((rule: { to?: Array<{ ipBlock?: { cidr?: string } }> }) =>
        (rule.to ?? []).some((to) => to.ipBlock?.cidr === '0.0.0.0/0'),
      ),
    );
    expect(toInternet.map((p) => p.spec.podSelector)).toEqual([{ matchLabels: { app: 'reporter' } }]);
  });

  it('monitors every service and alerts on what docs/operations.md lists, on metrics the services export', () => {
    const monitor = named('ServiceMonitor', 'ceb179');
    expect(monitor?.spec.selector.matchLabels).toEqual({ 'ceb179.io/metrics': 'true' });
    const rules = of('PrometheusRule').flatMap((r) => r.spec.groups.flatMap((g: { rules: { alert: string; expr: string }[] }) => g.rules));
    expect(rules.map((r) => r.alert).sort()).toEqual(
      expect.arrayContaining([
        'CeB179LateUploads',
        'CeB179ConfigFault',
        'CeB179SignerPaused',
        'CeB179SignerSilent',
        'CeB179CertificateExpiring',
        'CeB179DeadLetters',
        'CeB179BacklogAge',
      ]),
    );
    const registered = registeredMetricNames();
    const dashboard = of('ConfigMap').find((c) => c.metadata.name === 'ceb179-grafana-dashboard');
    const dashboardJson = JSON.parse(dashboard?.data?.['grafana-dashboard.json'] ?? 'null') as { panels: unknown[] };
    expect(dashboardJson.panels.length).toBeGreaterThan(10);
    const used = [...rules.flatMap((r) => metricFamilies(r.expr)), ...metricFamilies(JSON.stringify(dashboardJson))];
    expect(used.filter((name) => !registered.has(name))).toEqual([]);
  });

  it('runs RabbitMQ 4.x with the per-service users and permissions of deploy/rabbitmq/permissions.json', () => {
    expect(named('RabbitmqCluster', 'ceb179-rabbitmq')?.spec.image).toMatch(/^rabbitmq:4\./);
    const grants = (
      JSON.parse(readFileSync(path.join(root, 'deploy/rabbitmq/permissions.json'), 'utf8')) as { services: Record<string, unknown> }
    ).services;
    const permissions = Object.fromEntries(
      of('Permission').map((p) => [p.spec.userReference.name.replace(/^ceb179-/, ''), p.spec.permissions]),
    );
    expect(permissions).toEqual(grants);
    for (const service of Object.keys(grants))
      expect(named('User', `ceb179-${service}`)?.spec.importCredentialsSecret.name).toBe(`ceb179-rabbitmq-${service}`);
  });

  it('uploads to the customs endpoint of its environment', () => {
    const config = of('ConfigMap').find((c) => c.metadata.name.startsWith('ceb179-config'));
    expect(config?.data?.CEB179_CUSTOMS_URL).toBe(
      overlay === 'production'
        ? 'https://customs.chinaport.gov.cn/ceb2grab/grab/realTimeDataUpload'
        : 'https://swapptest.singlewindow.cn/ceb2grab/grab/realTimeDataUpload',
    );
  });
});
