export * from './ledger';
export * from './signers';
export * from './resend';
export * from './verify';
export * from './amqp';
