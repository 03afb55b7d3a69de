/**
 * Error texts the simulated control puts in `_args.Error`. The reader faults are the real
 * codes (docs/protocol.md §4, H); the texts for a wrong or locked PIN are not public (L), so these
 * are plausible inventions. Exported so tests elsewhere can match them, but code under test
 * should never depend on them: real cards word these differently.
 */
export const ControlErrors = {
  wrongPin: (remaining: number) => (remaining > 0 ? `Err:PIN PIN码错误,剩余${remaining}次` : 'Err:PIN PIN码错误,剩余0次,卡已锁定'),
  cardLocked: 'Err:PINLocked 卡已锁定(PIN错误次数过多),请到发卡机构解锁',
  readerResetFailed: 'Err:Custom50070',
  readerOpenFailed: 'Err:Custom50200',
  unknownMethod: (method: string) => `Err:UnknownMethod 不支持的方法: ${method}`,
  badRequest: (problem: string) => `Err:BadRequest 请求格式错误: ${problem}`,
  missingArgument: (name: string) => `Err:BadArgs 缺少参数 ${name}`,
  internal: 'Err:Internal 控件内部错误',
} as const;
