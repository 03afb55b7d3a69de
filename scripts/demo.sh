#!/usr/bin/env bash
# The demo, from a fresh Debian/Ubuntu machine: installs what it needs, brings up RabbitMQ,
# Postgres and Redis, migrates, seeds demo orders, starts the four services and both
# simulators, has the customs simulator fire a batch of callbacks, and prints each request's
# outcome and a summary. Exit code 0 only if every request was uploaded and verified.
#
#   DEMO_COUNT=20          callbacks to fire
#   DEMO_ALGORITHM=RSA     the simulated card: RSA (cards before mid-2022) or SM2
#   DEMO_KEEP_RUNNING=1    leave everything running afterwards (stop with: bash scripts/demo-stop.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s\n' "$*"; }

step "installing Node.js dependencies (if needed)"
bash scripts/bootstrap.sh
step "bringing up RabbitMQ, Postgres and Redis"
bash scripts/infra-up.sh
step "building"
npm run --silent build

export CEB179_AMQP_URL=${CEB179_AMQP_URL:-amqp://ceb179:ceb179@127.0.0.1:5672/ceb179}
export CEB179_DATABASE_URL=${CEB179_DATABASE_URL:-postgres://ceb179:ceb179@127.0.0.1:5432/ceb179}
export CEB179_REDIS_URL=${CEB179_REDIS_URL:-redis://127.0.0.1:6379/0}
export CEB179_INGRESS_PORT=${CEB179_INGRESS_PORT:-8080}
# /healthz and /readyz: a listener of its own, on loopback; any free port (nobody probes it in the demo).
export CEB179_INGRESS_HEALTH_PORT=${CEB179_INGRESS_HEALTH_PORT:-0}
# Each service's ops listener (/metrics, /healthz, /readyz) on any free port, logged as opsPort:
# a demo must not collide with another one, or with a test run, on this machine.
export CEB179_METRICS_PORT=${CEB179_METRICS_PORT:-0}
export CEB179_SOURCE_SCHEMA=${CEB179_SOURCE_SCHEMA:-ceb_source}
# The sign-job HMAC key (assembler and signer only): a fresh random one per demo run.
export CEB179_SIGN_JOB_KEY=${CEB179_SIGN_JOB_KEY:-$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("base64"))')}
customs_port=${DEMO_CUSTOMS_SIM_PORT:-8090}
eport_port=${DEMO_EPORT_SIM_PORT:-61232}
demo_dir=${DEMO_DIR:-$root/.demo}
algorithm=${DEMO_ALGORITHM:-RSA}
pin=${DEMO_CARD_PIN:-88888888}
card_file="$demo_dir/card-${algorithm,,}.json"

step "migrating the ledger"
npm run --silent migrate

bash scripts/demo-stop.sh >/dev/null 2>&1 || true
mkdir -p "$demo_dir/logs" "$demo_dir/pids"

start() { # name, then env assignments; logs to .demo/logs/<name>.log
  local name=$1; shift
  local dir=services
  [[ -d "services/$name" ]] || dir=simulators
  env "$@" node "$dir/$name/dist/main.js" >"$demo_dir/logs/$name.log" 2>&1 &
  echo $! >"$demo_dir/pids/$name.pid"
}
wait_port() { # port, name
  for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$2 did not open port $1; see $demo_dir/logs/$2.log" >&2; tail -20 "$demo_dir/logs/$2.log" >&2; return 1
}
wait_log() { # file, text, name
  for _ in $(seq 1 150); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$3 is not ready; see $1" >&2; tail -20 "$1" >&2; return 1
}
cleanup() {
  if [ "${DEMO_KEEP_RUNNING:-0}" != "1" ]; then bash scripts/demo-stop.sh >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

step "starting the simulators (E-Port control with a software $algorithm card; customs)"
start eport-sim CEB179_EPORT_SIM_PORT="$eport_port" CEB179_EPORT_SIM_CARD_FILE="$card_file" \
  CEB179_EPORT_SIM_ALGORITHM="$algorithm" CEB179_EPORT_SIM_PIN="$pin"
wait_port "$eport_port" eport-sim
start customs-sim CEB179_CUSTOMS_SIM_PORT="$customs_port" CEB179_CUSTOMS_SIM_CERT_FILES="$card_file" CEB179_CUSTOMS_SIM_STRICT=true
wait_port "$customs_port" customs-sim

step "starting ingress, assembler, reporter and signer"
start ingress
start assembler
start reporter CEB179_CUSTOMS_URL="http://127.0.0.1:$customs_port/ceb2grab/grab/realTimeDataUpload"
start signer CEB179_EPORT_URL="ws://127.0.0.1:$eport_port" CEB179_CARD_PIN="$pin" CEB179_SIGNER_HEALTH_PORT="${DEMO_SIGNER_HEALTH_PORT:-9179}" \
  CEB179_SIGNER_STATE_DIR="$demo_dir/signer-state"
wait_port "$CEB179_INGRESS_PORT" ingress
wait_log "$demo_dir/logs/assembler.log" 'assembler started' assembler
wait_log "$demo_dir/logs/reporter.log" 'reporter started' reporter
wait_log "$demo_dir/logs/signer.log" 'card self-test passed' signer

step "customs calls: ${DEMO_COUNT:-20} callbacks"
DEMO_CUSTOMS_SIM_URL="http://127.0.0.1:$customs_port" node tools/demo/dist/run-demo.js
status=$?
printf '\nlogs: %s/logs/\n' "$demo_dir"
exit $status
