/**
 * The whole-pipeline harness now lives in @ceb179/testkit (the chaos tool uses it too); this
 * module keeps the tests' imports as they were.
 */
export {
  CARD_PIN,
  SOURCE_SCHEMA,
  ledgerRow,
  readyText,
  startPipeline,
  type CardSpec,
  type Pipeline,
  type PipelineOptions,
  type PipelineService,
} from '@ceb179/testkit';
