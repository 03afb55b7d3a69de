export * from './topology';
export * from './messages';
export * from './sign-job-mac';
