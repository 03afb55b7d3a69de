export * from './infra';
export * from './source-data';
export * from './fixtures';
export * from './wait';
export * from './processes';
export * from './pipeline';
export * from './infra-control';
export * from './private-postgres';
