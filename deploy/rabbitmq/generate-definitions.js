#!/usr/bin/env node
// Writes deploy/rabbitmq/definitions.json (loaded by the compose RabbitMQ) from permissions.json:
// the demo admin user "ceb179" plus one least-privilege user per service, "ceb179-<service>",
// whose password is its name. Demo values only: production users get real secrets
// (scripts/rabbitmq-users.sh). Run again after changing permissions.json.
const { createHash, randomBytes } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

// RabbitMQ's rabbit_password_hashing_sha256: base64(salt ++ sha256(salt ++ password)), 4-byte salt.
function hash(password) {
  const salt = randomBytes(4);
  return Buffer.concat([
    salt,
    createHash('sha256')
      .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
      .digest(),
  ]).toString('base64');
}

const vhost = 'ceb179';
const { services } = JSON.parse(readFileSync(path.join(__dirname, 'permissions.json'), 'utf8'));
const user = (name, tags) => ({
  name,
  password_hash: hash(name === 'ceb179' ? 'ceb179' : name),
  hashing_algorithm: 'rabbit_password_hashing_sha256',
  tags,
});
const definitions = {
  users: [user('ceb179', ['administrator']), ...Object.keys(services).map((s) => user(`ceb179-${s}`, []))],
  vhosts: [{ name: vhost }],
  permissions: [
    { user: 'ceb179', vhost, configure: '.*', write: '.*', read: '.*' },
    ...Object.entries(services).map(([s, p]) => ({ user: `ceb179-${s}`, vhost, ...p })),
  ],
};
writeFileSync(path.join(__dirname, 'definitions.json'), `${JSON.stringify(definitions, null, 2)}\n`);
console.log(`wrote definitions.json: ${definitions.users.length} users`);
