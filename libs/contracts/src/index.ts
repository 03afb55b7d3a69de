export * from './topology';
export * from './messages';
