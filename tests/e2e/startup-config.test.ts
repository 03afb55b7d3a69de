import { startServiceProcess } from '@ceb179/harness';

/** Started as production starts them, a bad or missing setting stops each service with its name. */
describe('service start-up with bad configuration', () => {
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['ingress', { CEB179_INGRESS_PORT: 'eighty' }, /CEB179_INGRESS_PORT/],
    // true would take the left-most X-Forwarded-For entry, which any caller writes: the allow-list would be open.
    ['ingress', { CEB179_INGRESS_TRUST_PROXY: 'true' }, /CEB179_INGRESS_TRUST_PROXY: true is refused: it trusts any X-Forwarded-For/],
    ['assembler', { CEB179_SIGN_JOB_KEY: 'short' }, /CEB179_SIGN_JOB_KEY: must be at least 32 characters/],
    ['signer', { CEB179_CARD_PIN: '1' }, /CEB179_SIGN_JOB_KEY: must be set/],
    ['assembler', { CEB179_SOURCE_SCHEMA: 'bad schema;drop' }, /CEB179_SOURCE_SCHEMA: must be a lowercase SQL identifier/],
    ['reporter', { CEB179_CUSTOMS_URL: 'ftp://customs' }, /CEB179_CUSTOMS_URL: must start with http: or https:/],
    ['signer', { CEB179_EPORT_URL: 'ws://127.0.0.1:61232' }, /CEB179_CARD_PIN: must be set/],
    ['signer', { CEB179_CARD_PIN: '1', CEB179_SIGNER_EBP_CODES: 'OK1,not ok!' }, /CEB179_SIGNER_EBP_CODES/],
  ];

  it.each(cases)('%s refuses to start and names the variable (%j)', async (service, env, expected) => {
    const process = startServiceProcess(service, env, `${service}-bad-config`);
    const code = await process.exited();
    expect(code).toBe(1);
    expect(process.output()).toMatch(expected);
  });
});
