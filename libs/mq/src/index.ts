export { Broker, type BrokerOptions, type ConsumeOptions } from './broker';
export { consumeContract } from './contract-consumer';
export * from './message';
export { backoffMs, delayBucketFor, delayQueueName, DELAY_BUCKETS_MS } from './delay-buckets';
export {
  declareCallbackConsumption,
  declareCallbackPublishing,
  declareDeadLetters,
  declareFedWorkQueue,
  declareHeartbeatQueue,
  declareResendConsumption,
  declareResendPublishing,
  declareSignatureConsumption,
  declareSignerPublishing,
  declareSignJobQueues,
  declareSignJobRouting,
  declareWorkQueue,
} from './topology';
export { delayQueueArguments, workQueueArguments } from './queue-arguments';
export { deadLetterCount, redriveDeadLetters, sourceQueueOf, type RedriveOptions, type RedriveResult } from './redrive';
