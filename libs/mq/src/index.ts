export { Broker, type BrokerOptions, type ConsumeOptions } from './broker';
export { BrokerConnection, type ConnectionHooks, type ConnectionOptions } from './connection';
export { DEFAULT_PUBLISH_TIMEOUT_MS, publishConfirmed, type ConfirmedPublish } from './confirmed-publish';
export {
  DEFAULT_MAX_HANDLER_FAILURES,
  DeliveryPolicy,
  type Delivery,
  type DeliveryChannel,
  type DeliveryPolicyOptions,
  type RetryPublisher,
} from './delivery-policy';
export { consumeContract } from './contract-consumer';
export * from './message';
export { backoffMs, delayBucketFor, DELAY_BUCKETS_MS } from './delay-buckets';
/** Re-exported: callers of @ceb179/mq had it from here before the name moved to the contracts. */
export { delayQueueName } from '@ceb179/contracts';
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
