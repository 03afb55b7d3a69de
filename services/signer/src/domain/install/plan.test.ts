import { WELL_KNOWN_SIDS, virtualAccountSid } from './accounts';
import { buildInstallPlan, type InstallInputs, type InstallPlan, type Step } from './plan';
import { renderPlanText } from './plan-text';

const SIGNER_ENV = [
  '# the card PC of Hangzhou',
  'CEB179_AMQP_URL=amqps://signer-pc1:broker-secret-7@mq.cloud.test:5671/ceb179',
  'CEB179_CARD_PIN_FILE=secrets\\card-pin.txt',
  'CEB179_SIGN_JOB_KEY_FILE=secrets\\sign-job-key.txt',
  'CEB179_SIGNER_EBP_CODES=3301963K69,3301964J31',
  'CEB179_SIGNER_ID="cardpc-hangzhou-1"',
  'CEB179_SIGNER_HEALTH_PORT=9180',
  'CEB179_LOG_LEVEL=',
  'NODE_EXTRA_CA_CERTS=C:\\ceb179\\secrets\\broker-ca.pem',
].join('\r\n');

function inputs(overrides: Partial<InstallInputs> = {}): InstallInputs {
  return {
    installDir: 'C:\\ceb179',
    serviceName: 'ceb179-signer',
    nodeExe: 'C:\\Program Files\\nodejs\\node.exe',
    configFile: 'C:\\ceb179\\signer.env',
    configText: SIGNER_ENV,
    programData: 'C:\\ProgramData',
    updatePin: false,
    skipDoctor: false,
    pinInEnvironment: false,
    ...overrides,
  };
}

function plan(overrides: Partial<InstallInputs> = {}): InstallPlan {
  const result = buildInstallPlan(inputs(overrides));
  if (!result.ok) throw new Error(`expected a plan, got: ${result.errors.join('; ')}`);
  return result.plan;
}

function errors(overrides: Partial<InstallInputs>): string[] {
  const result = buildInstallPlan(inputs(overrides));
  if (result.ok) throw new Error('expected the inputs to be refused');
  return result.errors;
}

function stepsOf<K extends Step['kind']>(p: InstallPlan, kind: K): Array<Extract<Step, { kind: K }>> {
  return p.steps.filter((s): s is Extract<Step, { kind: K }> => s.kind === kind);
}

function aclOf(p: InstallPlan, target: string): Extract<Step, { kind: 'set-acl' }> {
  const step = stepsOf(p, 'set-acl').find((s) => s.path === target);
  if (!step) throw new Error(`no access step for ${target}`);
  return step;
}

function grantsOf(step: {
  grants: Array<{ principal: { label: string } & ({ sid: string } | { account: string }); right: string }>;
}): string[] {
  return step.grants.map((g) => `${'sid' in g.principal ? g.principal.sid : g.principal.account}:${g.right}`);
}

describe('the install plan', () => {
  it('decides every path from the install folder, the service name and signer.env', () => {
    const p = plan({ installDir: 'D:\\apps\\ceb179\\', serviceName: 'signer-pc1' });
    expect(p.paths).toMatchObject({
      installDir: 'D:\\apps\\ceb179',
      mainJs: 'D:\\apps\\ceb179\\services\\signer\\dist\\main.js',
      doctorJs: 'D:\\apps\\ceb179\\services\\signer\\dist\\doctor.js',
      wrapperExe: 'D:\\apps\\ceb179\\signer-pc1.exe',
      wrapperXml: 'D:\\apps\\ceb179\\signer-pc1.xml',
      logDir: 'D:\\apps\\ceb179\\logs',
      secretsDir: 'D:\\apps\\ceb179\\secrets',
      // relative to the service's working directory, the install folder
      pinFile: 'D:\\apps\\ceb179\\secrets\\card-pin.txt',
      stateDir: 'C:\\ProgramData\\ceb179\\signer',
    });
  });

  it('puts the state folder where CEB179_SIGNER_STATE_DIR says, else under %ProgramData%, and names it in the service definition', () => {
    expect(plan({ programData: 'E:\\ProgramData' }).paths.stateDir).toBe('E:\\ProgramData\\ceb179\\signer');
    const custom = plan({ configText: `${SIGNER_ENV}\r\nCEB179_SIGNER_STATE_DIR=state` });
    expect(custom.paths.stateDir).toBe('C:\\ceb179\\state');
    expect(custom.xml).toContain('<env name="CEB179_SIGNER_STATE_DIR" value="C:\\ceb179\\state" />');
    expect(stepsOf(custom, 'create-directory').map((s) => s.path)).toContain('C:\\ceb179\\state');
  });

  it('writes a WinSW definition with node.exe, main.js, one <env> per setting, and never the PIN', () => {
    const p = plan({ pinInEnvironment: true });
    expect(p.xml).toContain('<executable>C:\\Program Files\\nodejs\\node.exe</executable>');
    expect(p.xml).toContain('<argument>C:\\ceb179\\services\\signer\\dist\\main.js</argument>');
    expect(p.xml).toContain('<workingdirectory>C:\\ceb179</workingdirectory>');
    const envNames = [...p.xml.matchAll(/<env name="([^"]+)"/g)].map((m) => m[1]);
    expect(envNames).toEqual([
      'CEB179_AMQP_URL',
      'CEB179_CARD_PIN_FILE',
      'CEB179_SIGN_JOB_KEY_FILE',
      'CEB179_SIGNER_EBP_CODES',
      'CEB179_SIGNER_ID',
      'CEB179_SIGNER_HEALTH_PORT',
      'NODE_EXTRA_CA_CERTS',
      'CEB179_SIGNER_STATE_DIR',
    ]);
    expect(p.xml).toContain('<env name="CEB179_SIGNER_ID" value="cardpc-hangzhou-1" />');
    expect(p.xml).not.toMatch(/name="CEB179_CARD_PIN"/);
    expect(p.xml).toContain('<delayedAutoStart>true</delayedAutoStart>');
    expect(p.xml).toMatch(/<log mode="roll-by-size">\s*<sizeThreshold>10240<\/sizeThreshold>\s*<keepFiles>8<\/keepFiles>/);
    expect(p.xml).toContain('<logpath>C:\\ceb179\\logs</logpath>');
  });

  it('escapes values in the definition', () => {
    const p = plan({
      configText: `${SIGNER_ENV}\r\nCEB179_SIGNER_CONTROL_RESTART_COMMAND=powershell -Command "Restart-Service -Name 'x' & exit"`,
    });
    expect(p.xml).toContain('value="powershell -Command &quot;Restart-Service -Name &apos;x&apos; &amp; exit&quot;"');
  });

  it('restarts on failure with growing delays and a reset period, and says why that cannot loop on a PIN refusal', () => {
    const p = plan();
    expect(p.restartPolicy).toMatchObject({ delaysSeconds: [10, 30, 60], resetAfterSeconds: 3600 });
    expect(p.xml.match(/<onfailure action="restart" delay="(\d+) sec" \/>/g)).toEqual([
      '<onfailure action="restart" delay="10 sec" />',
      '<onfailure action="restart" delay="30 sec" />',
      '<onfailure action="restart" delay="60 sec" />',
    ]);
    expect(p.xml).toContain('<resetfailure>1 hour</resetfailure>');
    const configure = stepsOf(p, 'configure-service')[0]!;
    expect(configure.scArguments).toEqual([
      'config "ceb179-signer" start= delayed-auto',
      'failure "ceb179-signer" reset= 3600 actions= restart/10000/restart/30000/restart/60000',
      'failureflag "ceb179-signer" 1',
    ]);
    const why = p.restartPolicy.whyNoPinLoop.join(' ');
    expect(why).toMatch(/never ends the process/);
    expect(why).toMatch(/never resends a refused PIN/);
    const text = renderPlanText(p);
    expect(text).toContain('Why it cannot loop on a PIN refusal:');
    expect(text).toContain('never resends a refused PIN');
  });

  it('gives LocalSystem nothing beyond SYSTEM, and restricts each place by well-known SIDs', () => {
    const p = plan();
    const { system, administrators } = WELL_KNOWN_SIDS;
    expect(p.account).toMatchObject({ name: 'LocalSystem', kind: 'LocalSystem' });
    expect(grantsOf(aclOf(p, 'C:\\ceb179'))).toEqual([`${system}:F`, `${administrators}:F`]);
    expect(aclOf(p, 'C:\\ceb179').mode).toBe('exact');
    expect(aclOf(p, 'C:\\ceb179').removeSids).toEqual(expect.arrayContaining(['S-1-1-0', 'S-1-5-11', 'S-1-5-32-545']));
    expect(grantsOf(stepsOf(p, 'pin-file')[0]!)).toEqual([`${system}:F`, `${administrators}:F`]);
    expect(stepsOf(p, 'set-acl').some((s) => s.path === 'C:\\ceb179\\logs')).toBe(false);
    expect(stepsOf(p, 'set-service-account')).toEqual([]);
  });

  it('grants a dedicated account read on the code and the PIN file, modify on the logs and the state folder', () => {
    const p = plan({ serviceAccount: 'NT SERVICE\\ceb179-signer' });
    const account = virtualAccountSid('ceb179-signer');
    const { system, administrators } = WELL_KNOWN_SIDS;
    expect(grantsOf(aclOf(p, 'C:\\ceb179'))).toEqual([`${system}:F`, `${administrators}:F`, `${account}:RX`]);
    expect(aclOf(p, 'C:\\ceb179').grants.every((g) => g.inherit)).toBe(true);
    expect(aclOf(p, 'C:\\ceb179\\logs')).toMatchObject({ mode: 'add' });
    expect(grantsOf(aclOf(p, 'C:\\ceb179\\logs'))).toEqual([`${account}:M`]);
    expect(grantsOf(aclOf(p, 'C:\\ProgramData\\ceb179\\signer'))).toEqual([`${system}:F`, `${administrators}:F`, `${account}:M`]);
    expect(aclOf(p, 'C:\\ProgramData\\ceb179\\signer').mode).toBe('exact');
    const pin = stepsOf(p, 'pin-file')[0]!;
    expect(grantsOf(pin)).toEqual([`${system}:F`, `${administrators}:F`, `${account}:R`]);
    expect(pin.grants.some((g) => g.inherit)).toBe(false);
    expect(grantsOf(aclOf(p, 'C:\\ceb179\\ceb179-signer.xml'))).toEqual([`${system}:F`, `${administrators}:F`, `${account}:R`]);
    // signer.env: the service reads its definition, not this file
    expect(grantsOf(aclOf(p, 'C:\\ceb179\\signer.env'))).toEqual([`${system}:F`, `${administrators}:F`]);
    expect(grantsOf(aclOf(p, 'C:\\ceb179\\secrets\\broker-ca.pem'))).toEqual([`${account}:R`]);
    expect(stepsOf(p, 'set-service-account')[0]!.scArguments).toEqual([
      'sidtype "ceb179-signer" unrestricted',
      'config "ceb179-signer" obj= "NT SERVICE\\ceb179-signer" password= ""',
    ]);
  });

  it('keeps the account of an installed service unless told otherwise; a user account needs a password and the logon right', () => {
    expect(plan({ currentServiceAccount: 'NT AUTHORITY\\LocalService' }).account).toMatchObject({
      kind: 'BuiltIn',
      name: 'NT AUTHORITY\\LocalService',
    });
    expect(stepsOf(plan({ currentServiceAccount: 'NT AUTHORITY\\LocalService' }), 'set-service-account')).toEqual([]);
    const user = plan({ serviceAccount: '.\\ceb179svc', currentServiceAccount: 'LocalSystem' });
    expect(user.account).toMatchObject({
      kind: 'User',
      needsPassword: true,
      needsLogonRight: true,
      principal: { account: '.\\ceb179svc' },
    });
    expect(stepsOf(user, 'set-service-account')[0]!.scArguments).toEqual([]);
    expect(plan({ serviceAccount: 'CORP\\ceb179gmsa$' }).account).toMatchObject({
      kind: 'Managed',
      needsPassword: false,
      needsLogonRight: true,
    });
  });

  it('writes the PIN file only when it is missing, or always with --update-pin, and checks its form afterwards', () => {
    const keep = stepsOf(plan(), 'pin-file')[0]!;
    expect(keep).toMatchObject({
      path: 'C:\\ceb179\\secrets\\card-pin.txt',
      stagingPath: 'C:\\ceb179\\secrets\\card-pin.txt.new',
      rewrite: false,
    });
    expect(keep.checkCommand).toEqual([
      'C:\\Program Files\\nodejs\\node.exe',
      'C:\\ceb179\\services\\signer\\dist\\install.js',
      '--check-pin-file',
    ]);
    expect(keep.title).toMatch(/An existing PIN file is kept/);
    expect(stepsOf(plan({ updatePin: true }), 'pin-file')[0]!.rewrite).toBe(true);
    expect(plan().pinFileRules.join(' ')).toMatch(/without a byte-order mark.*no trailing newline/);
  });

  it('orders the steps: checks first, the PIN file restricted before the service starts, the doctor last', () => {
    const kinds = plan({ winswExe: 'C:\\Users\\op\\Downloads\\WinSW-x64.exe' }).steps.map((s) => s.kind);
    const first = (kind: Step['kind']) => kinds.indexOf(kind);
    expect(kinds.slice(0, first('stop-service')).every((k) => k === 'require-path')).toBe(true);
    expect(first('set-acl')).toBeGreaterThan(first('stop-service'));
    expect(first('pin-file')).toBeLessThan(first('start-service'));
    expect(first('copy-file')).toBeGreaterThan(first('stop-service'));
    expect(first('write-file')).toBeLessThan(first('install-service'));
    expect(kinds[kinds.length - 1]).toBe('run-doctor');
    expect(plan({ skipDoctor: true }).steps.map((s) => s.kind)).not.toContain('run-doctor');
  });

  it('needs WinSW on the first installation: without --winsw-exe it requires the copy already in place', () => {
    const requiredPaths = stepsOf(plan(), 'require-path').map((s) => s.path);
    expect(requiredPaths).toContain('C:\\ceb179\\ceb179-signer.exe');
    expect(stepsOf(plan(), 'copy-file')).toEqual([]);
  });

  it('warns, without failing, of a per-user node.exe and of a PIN in the environment (never its value)', () => {
    const p = plan({ nodeExe: 'C:\\Users\\op\\AppData\\Roaming\\nvm\\v20.18.0\\node.exe', pinInEnvironment: true });
    expect(p.warnings).toEqual([
      expect.stringMatching(/inside a user profile/),
      expect.stringMatching(/CEB179_CARD_PIN is set in the environment of this command \(value not shown\)/),
    ]);
    expect(plan().warnings).toEqual([]);
  });

  it('lists every step in the dry run, numbered, with the broker password masked', () => {
    const p = plan({ serviceAccount: 'NT SERVICE\\ceb179-signer' });
    const text = renderPlanText(p);
    p.steps.forEach((step, index) => expect(text).toContain(`${String(index + 1).padStart(3)}. ${step.title}`));
    expect(text).not.toContain('broker-secret-7');
    expect(text).toContain('<env name="CEB179_AMQP_URL" value="***" />');
    expect(p.xml).toContain('broker-secret-7');
  });
});

describe('the install plan refuses bad inputs, naming each problem', () => {
  it('refuses the PIN in signer.env without quoting it', () => {
    const problems = errors({ configText: `${SIGNER_ENV}\r\nCEB179_CARD_PIN=31415926` });
    expect(problems.join('\n')).toMatch(/line 10: CEB179_CARD_PIN must not be in this file/);
    expect(problems.join('\n')).not.toContain('31415926');
  });

  it('refuses settings the signer does not know, and two ways of giving one', () => {
    expect(errors({ configText: `${SIGNER_ENV}\r\nCEB179_SIGNER_EBP_CODE=x` }).join('\n')).toMatch(
      /CEB179_SIGNER_EBP_CODE is not a setting of the signer/,
    );
    expect(errors({ configText: `${SIGNER_ENV}\r\nCEB179_DATABASE_URL=postgres://x` }).join('\n')).toMatch(
      /CEB179_DATABASE_URL is not a setting of the signer/,
    );
    expect(errors({ configText: `${SIGNER_ENV}\r\nCEB179_AMQP_URL_FILE=secrets\\amqp.txt` }).join('\n')).toMatch(
      /CEB179_AMQP_URL_FILE and CEB179_AMQP_URL are both set/,
    );
    expect(errors({ configText: `${SIGNER_ENV}\r\nCEB179_SIGNER_ID=again` }).join('\n')).toMatch(/CEB179_SIGNER_ID is set twice/);
  });

  it('refuses values the signer would refuse at start, by variable', () => {
    expect(errors({ configText: `${SIGNER_ENV}\r\nCEB179_SIGNER_PREFETCH=many` }).join('\n')).toMatch(/CEB179_SIGNER_PREFETCH/);
    expect(errors({ configText: SIGNER_ENV.replace('amqps://', 'http://') }).join('\n')).toMatch(
      /CEB179_AMQP_URL: must start with amqp: or amqps:/,
    );
    expect(errors({ configText: SIGNER_ENV.replace(/CEB179_AMQP_URL=.*\r\n/, '') }).join('\n')).toMatch(
      /CEB179_AMQP_URL: must be a non-empty URL/,
    );
    expect(errors({ configText: SIGNER_ENV.replace('mq.cloud.test', 'mq.example.com') }).join('\n')).toMatch(/placeholder/);
  });

  it('needs the sign-job key, by file (checked by the signer at start) or long enough when given directly', () => {
    const withoutKey = SIGNER_ENV.replace(/CEB179_SIGN_JOB_KEY_FILE=.*\r\n/, '');
    expect(errors({ configText: withoutKey }).join('\n')).toMatch(/CEB179_SIGN_JOB_KEY: must be set/);
    expect(errors({ configText: `${withoutKey}\r\nCEB179_SIGN_JOB_KEY=short` }).join('\n')).toMatch(
      /CEB179_SIGN_JOB_KEY: must be at least 32 characters/,
    );
    expect(errors({ configText: `${withoutKey}\r\nCEB179_SIGN_JOB_KEY=short` }).join('\n')).not.toContain('short');
    const direct = plan({ configText: `${withoutKey}\r\nCEB179_SIGN_JOB_KEY=${'k'.repeat(44)}` });
    expect(renderPlanText(direct)).not.toContain('k'.repeat(44));
    expect(direct.sensitiveSettings).toEqual(['CEB179_AMQP_URL', 'CEB179_SIGN_JOB_KEY']);
    expect(stepsOf(plan(), 'require-path').map((s) => s.path)).toContain('C:\\ceb179\\secrets\\sign-job-key.txt');
  });

  it('refuses a control that is not on this machine unless CEB179_SIGNER_ALLOW_REMOTE_CONTROL', () => {
    expect(errors({ configText: `${SIGNER_ENV}\r\nCEB179_EPORT_URL=ws://10.1.2.3:61232` }).join('\n')).toMatch(
      /CEB179_EPORT_URL: 10\.1\.2\.3 is not this machine/,
    );
    expect(plan({ configText: `${SIGNER_ENV}\r\nCEB179_EPORT_URL=ws://127.0.0.1:61233` }).xml).toContain('value="ws://127.0.0.1:61233"');
    expect(
      plan({ configText: `${SIGNER_ENV}\r\nCEB179_EPORT_URL=ws://eport-sim:61232\r\nCEB179_SIGNER_ALLOW_REMOTE_CONTROL=true` }).xml,
    ).toContain('value="ws://eport-sim:61232"');
  });

  it('refuses a bad service name, relative or non-Windows paths, a system folder and a stranger virtual account', () => {
    expect(errors({ serviceName: 'ceb179 signer' }).join('\n')).toMatch(/--service-name ceb179 signer/);
    expect(errors({ serviceName: '-x' }).join('\n')).toMatch(/--service-name/);
    expect(errors({ installDir: 'ceb179' }).join('\n')).toMatch(/--install-dir ceb179: must be an absolute Windows path/);
    expect(errors({ installDir: '/opt/ceb179' }).join('\n')).toMatch(/--install-dir/);
    expect(errors({ installDir: 'C:\\' }).join('\n')).toMatch(/a folder of its own/);
    expect(errors({ installDir: 'C:\\Windows\\ceb179' }).join('\n')).toMatch(/a folder of its own/);
    expect(errors({ nodeExe: 'node' }).join('\n')).toMatch(/--node-exe node/);
    expect(errors({ winswExe: 'WinSW-x64.exe' }).join('\n')).toMatch(/--winsw-exe/);
    expect(errors({ serviceAccount: 'NT SERVICE\\other' }).join('\n')).toMatch(/NT SERVICE\\ceb179-signer/);
    expect(errors({ serviceAccount: 'ceb179svc' }).join('\n')).toMatch(/name the account with its domain/);
  });

  it('reports every problem at once', () => {
    // service name, install folder, the malformed line, the PIN, and the signer's own check (broker URL, sign-job key)
    expect(errors({ serviceName: 'a b', installDir: 'x', configText: 'CEB179_CARD_PIN=1\r\nnot a line' })).toHaveLength(5);
  });
});
