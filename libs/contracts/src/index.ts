export * from './topology';
export * from './messages';
export * from './sign-job-mac';
export * from './redis-keys';
export * from './amqp-headers';
