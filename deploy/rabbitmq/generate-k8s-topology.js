#!/usr/bin/env node
// Writes k8s/base/rabbitmq-topology.yaml (Messaging Topology Operator resources) from
// permissions.json: the vhost, one User and one Permission per role, and KEDA's monitoring user.
// Run again after changing permissions.json (tests/k8s checks the two are equal).
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const { services } = JSON.parse(readFileSync(path.join(__dirname, 'permissions.json'), 'utf8'));
const cluster = '  rabbitmqClusterReference:\n    name: ceb179-rabbitmq';
const docs = [
  `# Per-service RabbitMQ users and their permissions as Messaging Topology Operator resources
# (https://www.rabbitmq.com/kubernetes/operator/using-topology-operator), generated from
# deploy/rabbitmq/permissions.json by deploy/rabbitmq/generate-k8s-topology.js. Each user's
# credentials come from a Secret ceb179-rabbitmq-<role> (keys username, password) created per
# environment; the AMQP URLs in ceb179-connections use them. Card-PC users (one per card PC, only
# its ebpCodes' queues) are made by scripts/rabbitmq-users.sh (deploy/rabbitmq/card-grants.js).
apiVersion: rabbitmq.com/v1beta1
kind: Vhost
metadata:
  name: ceb179
spec:
  name: ceb179
  defaultQueueType: quorum
${cluster}`,
];
for (const [role, grant] of Object.entries(services)) {
  docs.push(`apiVersion: rabbitmq.com/v1beta1
kind: User
metadata:
  name: ceb179-${role}
spec:
  tags: []
  importCredentialsSecret:
    name: ceb179-rabbitmq-${role}
${cluster}`);
  docs.push(`apiVersion: rabbitmq.com/v1beta1
kind: Permission
metadata:
  name: ceb179-${role}
spec:
  vhost: ceb179
  userReference:
    name: ceb179-${role}
  permissions:
    configure: ${JSON.stringify(grant.configure)}
    write: ${JSON.stringify(grant.write)}
    read: ${JSON.stringify(grant.read)}
${cluster}`);
}
docs.push(`# KEDA reads queue depth through the management API as a monitoring-tagged user without AMQP
# grants: Secret ceb179-rabbitmq-keda.
apiVersion: rabbitmq.com/v1beta1
kind: User
metadata:
  name: ceb179-keda
spec:
  tags: [monitoring]
  importCredentialsSecret:
    name: ceb179-rabbitmq-keda
${cluster}`);
const target = path.join(__dirname, '..', '..', 'k8s', 'base', 'rabbitmq-topology.yaml');
writeFileSync(target, `${docs.join('\n---\n')}\n`);
console.log(`wrote ${path.relative(process.cwd(), target)}: ${Object.keys(services).length} roles`);
