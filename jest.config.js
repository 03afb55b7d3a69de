/** One jest configuration for the whole monorepo, in four projects named by what a test needs:
 *
 * - unit:       `<package>/src/**\/*.test.ts` beside the code, plus tests/docs and tests/k8s (they check
 *               the docs and the manifests against the code and need no service). No RabbitMQ, Postgres or Redis:
 *               tests/setup/no-infrastructure.ts makes any connection to their ports fail the test.
 * - component:  `<package>/test/**\/*.test.ts`: one package against the real RabbitMQ, Postgres and Redis
 *               (each file its own database, vhost and Redis db, from libs/testkit).
 * - e2e:        tests/e2e and tests/operator: the built pipeline as real processes.
 * - disruptive: tests/disruptive stop and restart the shared RabbitMQ, Postgres and Redis.
 *
 * TypeScript goes through swc (no type-check here; `npm run typecheck` type-checks the tests).
 *
 * The disruptive project never runs beside other test files: scripts/test.sh runs the other three first, in
 * parallel (CEB179_TEST_PHASE=parallel), then `--selectProjects disruptive` alone, one file at a time
 * (CEB179_TEST_PHASE=disruptive). Without the variable it runs only when named, and then one file at a time:
 * `npx jest tests/disruptive --runInBand`. */
const libs = ['errors', 'logger', 'config', 'contracts', 'mq', 'protocol', 'db', 'testkit', 'lifecycle', 'operator', 'metrics'];
const phase = process.env.CEB179_TEST_PHASE;
const disruptive = phase === 'disruptive' || (phase === undefined && process.argv.slice(2).some((arg) => arg.includes('tests/disruptive')));
const packages = ['libs', 'services', 'simulators', 'tools'];

/** What every project shares: swc for TypeScript, packages resolved to their sources. */
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    [`^@ceb179/(${libs.join('|')})$`]: '<rootDir>/libs/$1/src/index.ts',
    '^@ceb179/(customs-sim|eport-sim)$': '<rootDir>/simulators/$1/src/index.ts',
    '^@ceb179/harness$': '<rootDir>/tools/harness/src/index.ts',
  },
  setupFiles: ['<rootDir>/tests/setup/infrastructure-allowed.ts'],
};

const projects = [
  {
    ...shared,
    displayName: 'unit',
    roots: [...packages, 'tests/docs', 'tests/k8s'].map((dir) => `<rootDir>/${dir}`),
    testMatch: [
      ...packages.map((dir) => `<rootDir>/${dir}/*/src/**/*.test.ts`),
      '<rootDir>/tests/docs/**/*.test.ts',
      '<rootDir>/tests/k8s/**/*.test.ts',
    ],
    setupFiles: [],
    setupFilesAfterEnv: ['<rootDir>/tests/setup/no-infrastructure.ts'],
  },
  {
    ...shared,
    displayName: 'component',
    roots: packages.map((dir) => `<rootDir>/${dir}`),
    testMatch: packages.map((dir) => `<rootDir>/${dir}/*/test/**/*.test.ts`),
  },
  {
    ...shared,
    displayName: 'e2e',
    roots: ['<rootDir>/tests/e2e', '<rootDir>/tests/operator'],
    testMatch: ['<rootDir>/tests/{e2e,operator}/**/*.test.ts'],
  },
  ...(disruptive
    ? [
        {
          ...shared,
          displayName: 'disruptive',
          roots: ['<rootDir>/tests/disruptive'],
          testMatch: ['<rootDir>/tests/disruptive/**/*.test.ts'],
        },
      ]
    : []),
];

module.exports = {
  projects: phase === 'disruptive' ? projects.filter((project) => project.displayName === 'disruptive') : projects,
  testTimeout: 60000,
  maxWorkers: disruptive ? 1 : 2,
};
