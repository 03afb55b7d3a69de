import { buildUninstallPlan, renderUninstallText, type UninstallInputs, type UninstallPlan } from './uninstall-plan';

const base: UninstallInputs = {
  installDir: 'C:\\ceb179',
  serviceName: 'ceb179-signer',
  configFile: 'C:\\ceb179\\signer.env',
  configText:
    'CEB179_AMQP_URL=amqps://u:p@mq:5671/ceb179\nCEB179_CARD_PIN_FILE=D:\\keys\\pin.txt\nCEB179_SIGNER_STATE_DIR=state\nbroken line\n',
  programData: 'C:\\ProgramData',
  removeData: false,
};

function plan(overrides: Partial<UninstallInputs> = {}): UninstallPlan {
  const result = buildUninstallPlan({ ...base, ...overrides });
  if ('errors' in result) throw new Error(result.errors.join('; '));
  return result;
}

describe('the uninstall plan', () => {
  it('removes the service and its definition, keeps settings, PIN file, logs and always the state folder', () => {
    const p = plan();
    expect(p.steps.map((s) => `${s.kind} ${'path' in s ? s.path : s.service}`)).toEqual([
      'stop-service ceb179-signer',
      'remove-service ceb179-signer',
      'shred-file C:\\ceb179\\ceb179-signer.xml',
      'delete-file C:\\ceb179\\ceb179-signer.exe',
      'delete-file C:\\ceb179\\ceb179-signer.exe.config',
    ]);
    expect(p.kept.join('\n')).toContain('D:\\keys\\pin.txt');
    expect(p.kept.join('\n')).toContain('the state folder C:\\ceb179\\state');
  });

  it('with --remove-data shreds the PIN file (where signer.env says), the secrets and the settings, deletes the logs, and still keeps the state folder', () => {
    const p = plan({ removeData: true });
    const removed = p.steps.map((s) => ('path' in s ? `${s.kind} ${s.path}` : s.kind));
    expect(removed).toEqual(
      expect.arrayContaining([
        'shred-file D:\\keys\\pin.txt',
        'shred-folder C:\\ceb179\\secrets',
        'shred-file C:\\ceb179\\signer.env',
        'delete-folder C:\\ceb179\\logs',
      ]),
    );
    expect(removed.some((step) => step.includes('state'))).toBe(false);
    expect(renderUninstallText(p)).toMatch(/Kept:\n {2}- the state folder C:\\ceb179\\state/);
  });

  it('uses the default places when signer.env is gone', () => {
    const p = plan({ configText: undefined, removeData: true });
    expect(p.steps).toContainEqual(expect.objectContaining({ kind: 'shred-file', path: 'C:\\ceb179\\secrets\\card-pin.txt' }));
    expect(p.kept.join('\n')).toContain('C:\\ProgramData\\ceb179\\signer');
  });

  it('refuses a bad service name or install folder', () => {
    expect(buildUninstallPlan({ ...base, serviceName: 'a b' })).toEqual({ errors: [expect.stringMatching(/--service-name/)] });
    expect(buildUninstallPlan({ ...base, installDir: 'ceb179' })).toEqual({ errors: [expect.stringMatching(/--install-dir/)] });
  });
});
