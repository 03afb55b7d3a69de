/** One jest run for the whole monorepo: unit tests sit beside the code (src/**\/*.test.ts),
 * component and end-to-end tests under each package's test/ and tests/e2e. TypeScript goes
 * through swc (no type-check here; `npm run build` type-checks). */
const libs = ['errors', 'logger', 'config', 'contracts', 'mq', 'protocol', 'db', 'testkit', 'lifecycle'];
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/libs', '<rootDir>/services', '<rootDir>/tools', '<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  moduleNameMapper: {
    [`^@ceb179/(${libs.join('|')})$`]: '<rootDir>/libs/$1/src/index.ts',
    '^@ceb179/(customs-sim|eport-sim)$': '<rootDir>/services/$1/src/index.ts',
  },
  testTimeout: 60000,
  maxWorkers: 2,
};
