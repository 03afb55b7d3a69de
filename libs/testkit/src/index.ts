export * from './infra';
export * from './source-data';
export * from './fixtures';
export * from './wait';
export * from './paths';
export * from './private-infra';
