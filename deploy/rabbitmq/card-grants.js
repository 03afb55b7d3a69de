// The grants of one card PC's own RabbitMQ user: the signer's grants of permissions.json narrowed to
// the sign-job queues of its ebpCodes (none of the others', and not the shared "any" queue), or, for a
// card serving every unclaimed ebpCode (no list), to the "any" queue only. Used by
// scripts/rabbitmq-users.sh (CEB179_SIGNER_CARDS) and tests/e2e/rabbitmq-permissions.e2e.test.ts.
const EBP_CODE = '[0-9A-Za-z]+';

function cardSignerGrants(signerGrants, ebpCodes) {
  for (const code of ebpCodes) {
    if (!/^[0-9A-Za-z]{1,18}$/.test(code)) throw new Error(`not an ebpCode: ${code}`);
  }
  const narrow = (pattern) => {
    if (!pattern.includes(EBP_CODE)) throw new Error(`signer grant without an ebpCode pattern: ${pattern}`);
    if (ebpCodes.length === 0) {
      // Only the "any" queue: no ebp.<code> queue matches.
      return pattern
        .split(`(ebp\\.${EBP_CODE}|any)`)
        .join('any')
        .split(`|sign-jobs\\.ebp\\.${EBP_CODE}`)
        .join('')
        .split(`sign-jobs\\.ebp\\.${EBP_CODE}|`)
        .join('');
    }
    const codes = `(${ebpCodes.join('|')})`;
    return pattern.split(`(ebp\\.${EBP_CODE}|any)`).join(`ebp\\.${codes}`).split(EBP_CODE).join(codes);
  };
  return { configure: narrow(signerGrants.configure), write: narrow(signerGrants.write), read: narrow(signerGrants.read) };
}

module.exports = { cardSignerGrants };
