import type { InstallPlan } from './plan';

/**
 * The dry run: every step in plain words, numbered, then the decisions behind them. Values of
 * sensitive settings (the broker URL's password) are masked; the PIN is never part of a plan.
 */
export function renderPlanText(plan: InstallPlan): string {
  const { paths, account } = plan;
  const out: string[] = [
    `ceb179 signer installation plan for the service ${plan.serviceName} (dry run: nothing is changed)`,
    '',
    `  install folder  ${paths.installDir}`,
    `  runs            "${paths.nodeExe}" "${paths.mainJs}" as ${account.name}${account.kind === 'LocalSystem' ? '' : ` (${account.kind === 'Virtual' ? 'virtual account' : account.kind === 'BuiltIn' ? 'built-in account' : account.kind === 'Managed' ? 'group managed service account' : 'user account'})`}`,
    `  settings        ${paths.configFile}: ${plan.settingNames.join(', ')}`,
    `  definition      ${paths.wrapperXml} (wrapper ${paths.wrapperExe})`,
    `  logs            ${paths.logDir}`,
    `  PIN file        ${paths.pinFile}`,
    `  state folder    ${paths.stateDir} (PIN refusals, per card; "${paths.nodeExe}" "${paths.pinStateJs}" show|clear [certNo])`,
    `  health          ${plan.healthPort > 0 ? `http://127.0.0.1:${plan.healthPort}/health` : 'any free port (see the log)'}`,
    '',
    'Steps',
    ...plan.steps.map((step, index) => `${String(index + 1).padStart(3)}. ${step.title}`),
    '',
    `Restart policy: restart after ${plan.restartPolicy.delaysSeconds.map((s) => `${s} s`).join(', ')}; the failure count resets after ${plan.restartPolicy.resetAfterSeconds / 60} min without a failure.`,
    'Why it cannot loop on a PIN refusal:',
    ...plan.restartPolicy.whyNoPinLoop.map((line) => `  - ${line}`),
    '',
    'The PIN file:',
    ...plan.pinFileRules.map((line) => `  - ${line}`),
    '',
    `The service definition ${paths.wrapperXml} (${plan.sensitiveSettings.length > 0 ? `${plan.sensitiveSettings.join(', ')} masked here` : 'as written'}):`,
    ...mask(plan)
      .split(/\r?\n/)
      .filter((line) => line !== '')
      .map((line) => `  ${line}`),
  ];
  if (plan.warnings.length > 0) out.push('', 'Warnings:', ...plan.warnings.map((w) => `  ! ${w}`));
  return `${out.join('\n')}\n`;
}

function mask(plan: InstallPlan): string {
  let xml = plan.xml;
  for (const key of plan.sensitiveSettings) {
    xml = xml.replace(new RegExp(`(<env name="${key}" value=")[^"]*(")`), '$1***$2');
  }
  return xml;
}
