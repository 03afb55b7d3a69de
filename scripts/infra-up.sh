#!/usr/bin/env bash
# Brings up RabbitMQ, Postgres and Redis for the demo and the tests, idempotently.
# With a running Docker engine it uses docker compose; otherwise the Debian packages,
# installing them with apt when they are missing. Creates the ceb179 role, database,
# vhost and user that the default CEB179_* settings point at.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '[infra] %s\n' "$*" >&2; }

PG_USER=ceb179 PG_PASSWORD=ceb179 PG_DB=ceb179
MQ_USER=ceb179 MQ_PASSWORD=ceb179 MQ_VHOST=ceb179

if [ "${CEB179_INFRA:-auto}" != "local" ] && command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  log "Docker engine found: docker compose up"
  docker compose up -d --wait postgres rabbitmq redis
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

need=()
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} with apt"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/usr/lib/rabbitmq/bin"

# --- Postgres ---------------------------------------------------------------
PG_VERSION=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$PG_VERSION main$"; then
  $SUDO pg_createcluster "$PG_VERSION" main >/dev/null
fi
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $4}' | grep -q online; then
  log "starting Postgres $PG_VERSION"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$PG_VERSION" main start
fi
PG_PORT=$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1==v && $2=="main" {print $3}')
if [ "$PG_PORT" != "5432" ]; then log "warning: Postgres listens on $PG_PORT, defaults expect 5432"; fi
psql_su() { (cd / && $SUDO -u postgres psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtA "$@"); }
if command -v runuser >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  psql_su() { (cd / && runuser -u postgres -- psql -p "$PG_PORT" -v ON_ERROR_STOP=1 -qtA "$@"); }
fi
for i in $(seq 1 30); do psql_su -c 'select 1' >/dev/null 2>&1 && break; sleep 1; done
psql_su -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='$PG_USER') THEN CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD'; END IF; END\$\$;"
psql_su -c "SELECT 1 FROM pg_database WHERE datname='$PG_DB'" | grep -q 1 || psql_su -c "CREATE DATABASE $PG_DB OWNER $PG_USER"

# --- Redis ------------------------------------------------------------------
if ! redis-cli -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --port 6379 --bind 127.0.0.1 --save '' --appendonly no >/dev/null
  for i in $(seq 1 30); do redis-cli -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
fi

# --- RabbitMQ ---------------------------------------------------------------
if ! rabbitmq-diagnostics -q ping >/dev/null 2>&1; then
  log "starting RabbitMQ"
  $SUDO rabbitmq-plugins enable --offline rabbitmq_management >/dev/null 2>&1 || true
  $SUDO rabbitmq-server -detached >/dev/null 2>&1 || true
  for i in $(seq 1 120); do rabbitmq-diagnostics -q ping >/dev/null 2>&1 && break; sleep 1; done
fi
$SUDO rabbitmqctl await_startup --timeout 120 >/dev/null
$SUDO rabbitmq-plugins list -e -q 2>/dev/null | grep -q rabbitmq_management || $SUDO rabbitmq-plugins enable rabbitmq_management >/dev/null
$SUDO rabbitmqctl list_vhosts -q | grep -qx "$MQ_VHOST" || $SUDO rabbitmqctl add_vhost "$MQ_VHOST" >/dev/null
$SUDO rabbitmqctl list_users -q | awk '{print $1}' | grep -qx "$MQ_USER" || $SUDO rabbitmqctl add_user "$MQ_USER" "$MQ_PASSWORD" >/dev/null
$SUDO rabbitmqctl set_user_tags "$MQ_USER" administrator >/dev/null
$SUDO rabbitmqctl set_permissions -p "$MQ_VHOST" "$MQ_USER" '.*' '.*' '.*' >/dev/null
for i in $(seq 1 60); do curl -sf -u "$MQ_USER:$MQ_PASSWORD" http://127.0.0.1:15672/api/overview >/dev/null && break; sleep 1; done
log "ready: postgres://$PG_USER@127.0.0.1:$PG_PORT/$PG_DB amqp://$MQ_USER@127.0.0.1:5672/$MQ_VHOST redis://127.0.0.1:6379/0"
