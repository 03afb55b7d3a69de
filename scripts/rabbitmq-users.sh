#!/usr/bin/env bash
# Creates (or updates) one RabbitMQ user per service with the least-privilege permissions of
# deploy/rabbitmq/permissions.json, on the broker this machine's rabbitmqctl talks to.
#
#   bash scripts/rabbitmq-users.sh [vhost]          (default vhost: ceb179)
#
# Passwords come from CEB179_RABBITMQ_PASSWORD_<SERVICE> (e.g. ..._INGRESS) when set, else are
# generated. Each service's AMQP URL is written to ./rabbitmq-urls/<service> with mode 600 (give
# it to the service as CEB179_AMQP_URL_FILE); nothing secret is printed.
#
# CEB179_SIGNER_CARDS="cardpc1=3301963K69,3301964J31 cardpc2=" also gives each card PC a user of its
# own, ceb179-signer-<name>, that reads only the sign-job queues of its ebpCodes (empty: only the
# shared "any" queue; deploy/rabbitmq/card-grants.js), so a stolen card PC credential exposes that
# card's jobs only. URL in ./rabbitmq-urls/signer-<name>.
set -euo pipefail
cd "$(dirname "$0")/.."
vhost=${1:-ceb179}
host=${CEB179_RABBITMQ_HOST:-127.0.0.1:5672}
out=rabbitmq-urls
mkdir -p "$out" && chmod 700 "$out"
rabbitmqctl list_vhosts -q | grep -qx "$vhost" || rabbitmqctl add_vhost "$vhost" >/dev/null

node -e '
  const p = require("./deploy/rabbitmq/permissions.json").services;
  const { cardSignerGrants } = require("./deploy/rabbitmq/card-grants.js");
  for (const [s, g] of Object.entries(p)) console.log([s, g.configure, g.write, g.read].join("\t"));
  for (const card of (process.env.CEB179_SIGNER_CARDS || "").split(/\s+/).filter(Boolean)) {
    const [name, codes = ""] = card.split("=");
    if (!/^[0-9A-Za-z-]+$/.test(name)) throw new Error(`CEB179_SIGNER_CARDS: bad card name ${name}`);
    const g = cardSignerGrants(p.signer, codes.split(",").filter(Boolean));
    console.log([`signer-${name}`, g.configure, g.write, g.read].join("\t"));
  }
' | while IFS=$'\t' read -r service configure write read; do
  user="ceb179-$service"
  var="CEB179_RABBITMQ_PASSWORD_${service^^}"; var=${var//-/_}
  password=${!var:-$(node -e 'process.stdout.write(require("crypto").randomBytes(18).toString("base64url"))')}
  if rabbitmqctl list_users -q | awk '{print $1}' | grep -qx "$user"; then
    rabbitmqctl change_password "$user" "$password" >/dev/null
  else
    rabbitmqctl add_user "$user" "$password" >/dev/null
  fi
  rabbitmqctl set_user_tags "$user" >/dev/null
  rabbitmqctl set_permissions -p "$vhost" "$user" "$configure" "$write" "$read" >/dev/null
  umask 077
  printf 'amqp://%s:%s@%s/%s' "$user" "$password" "$host" "$vhost" > "$out/$service"
  echo "user $user: permissions set on vhost $vhost; URL in $out/$service"
done
