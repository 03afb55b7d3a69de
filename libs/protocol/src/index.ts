/**
 * @ceb179/protocol: the customs 179 wire contract (docs/protocol.md) as pure functions: the payment
 * document, the sign string, payExInfoStr, the E-Port control envelope, certificates and signatures.
 * No I/O here, so every service and simulator shares one byte-exact implementation.
 */
export { formatAmount, checkAmount, AMOUNT_MAX_INTEGER_DIGITS, AMOUNT_MAX_FRACTION_DIGITS } from './amount';
export { formatTradingTime, DEFAULT_TIME_ZONE } from './trading-time';
export {
  buildPaymentDocument,
  characterCount,
  type PaymentRow,
  type PaymentOrderRow,
  type OrderGoodsRow,
  type SourcePayment,
  type PaymentDocument,
} from './payment-document';
export { HEAD_KEYS, LIST_ITEM_KEYS, GOODS_KEYS, MAX_LENGTH, VER_DEPT_VALUES, PAY_TYPE_VALUES } from './document-shape';
export { buildSignString, parseSignString, type SignStringParts } from './sign-string';
export { buildPayExInfoStr, buildUploadFormBody, extractUploadParts, type UploadParts } from './pay-ex-info';
export {
  ControlMethods,
  buildControlRequest,
  parseControlFrame,
  buildControlReply,
  buildControlGreeting,
  controlText,
  type ControlMethod,
  type ControlReply,
  type ControlFrame,
} from './control-envelope';
export {
  detectAlgorithmFromPublicKeyPem,
  sm2PublicKeyPemFromHex,
  sm2PublicKeyHexFromPem,
  type SignAlgorithm,
  type PublicKeyRef,
} from './public-key';
export { parseCertificate, certNoFromSerialBytes, certificateSubjectFromDer, type CardCertificate } from './certificate';
export { verifySignature, verifySignatureOverBytes, signRsaSha1 } from './signature';
export { SM2_DEFAULT_USER_ID, sm2SignatureToRaw, signSm2Sm3 } from './sm2';
export { toPem, canonicalBase64, isCanonicalBase64 } from './pem';
