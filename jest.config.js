/** One jest run for the whole monorepo: unit tests sit beside the code (src/**\/*.test.ts),
 * component and end-to-end tests under each package's test/ and tests/e2e. TypeScript goes
 * through swc (no type-check here; `npm run build` type-checks).
 *
 * tests/disruptive stop and restart the shared RabbitMQ, Postgres and Redis, so they never run
 * beside other test files: scripts/test.sh runs everything else first, in parallel
 * (CEB179_TEST_PHASE=parallel), then them alone, one file at a time (CEB179_TEST_PHASE=disruptive).
 * Without the variable they run only when named, and then one file at a time:
 * `npx jest tests/disruptive --runInBand`. */
const libs = ['errors', 'logger', 'config', 'contracts', 'mq', 'protocol', 'db', 'testkit', 'lifecycle', 'operator', 'metrics'];
const phase = process.env.CEB179_TEST_PHASE;
const disruptive = phase === 'disruptive' || (phase === undefined && process.argv.slice(2).some((arg) => arg.includes('tests/disruptive')));
module.exports = {
  testEnvironment: 'node',
  roots: phase === 'disruptive' ? ['<rootDir>/tests/disruptive'] : ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/simulators', '<rootDir>/tools', '<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/', ...(disruptive ? [] : ['/tests/disruptive/'])],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    [`^@ceb179/(${libs.join('|')})$`]: '<rootDir>/libs/$1/src/index.ts',
    '^@ceb179/(customs-sim|eport-sim)$': '<rootDir>/simulators/$1/src/index.ts',
    '^@ceb179/harness$': '<rootDir>/tools/harness/src/index.ts',
  },
  testTimeout: 60000,
  maxWorkers: disruptive ? 1 : 2,
};
