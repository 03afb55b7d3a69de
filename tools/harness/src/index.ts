export * from './processes';
export * from './pipeline';
export * from './infra-control';
