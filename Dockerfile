# syntax=docker/dockerfile:1
#
# One image for every ceb179 service. Pick the service with the build arg (the default command)
# or with the command itself:
#
#   docker build -t ceb179 .                                  # default command runs ingress
#   docker build -t ceb179-reporter --build-arg SERVICE=reporter .
#   docker run --rm ceb179 node services/assembler/dist/main.js
#   docker run --rm ceb179 node libs/db/dist/cli.js           # the ledger migrations (npm run migrate)
#
# Services: ingress assembler reporter signer console; simulators: customs-sim eport-sim. Configuration comes only from
# CEB179_* variables at run time (secrets as <NAME>_FILE pointing at a mounted file); nothing secret
# is baked into the image. tini is PID 1, so SIGTERM reaches node, which drains within 30 s.

ARG NODE_IMAGE=node:22-bookworm-slim

# --- manifests: only the package.json files, so `npm ci` is cached until dependencies change ---
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN set -eu; mkdir -p /out; \
    for f in package.json package-lock.json libs/*/package.json services/*/package.json simulators/*/package.json tools/*/package.json; do \
      mkdir -p "/out/$(dirname "$f")"; cp "$f" "/out/$f"; \
    done

# --- build: install everything, compile, then drop dev dependencies and sources ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm npm ci
COPY . .
RUN npm run build \
 && npm prune --omit=dev \
 && find libs services simulators tools -mindepth 2 -maxdepth 2 \( -name src -o -name test -o -name 'tsconfig*.json' \) -exec rm -rf {} + \
 && find libs services simulators tools -name '*.tsbuildinfo' -delete \
 && rm -rf tests scripts .ci tsconfig*.json jest.config.js

# --- runtime ---
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ceb179 \
 && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin ceb179 \
 && mkdir -p /var/lib/ceb179 \
 && chown 10001:10001 /var/lib/ceb179
WORKDIR /app
ENV NODE_ENV=production
# V8's young generation may grow to 3 x 16 MB per process by default; capped at 2 MB semi-spaces, each
# service stays under 100 MB resident under load (ingress 118 -> 92 MB, assembler 109 -> 80, reporter
# 105 -> 79 at 100 callbacks/s) for no measurable CPU: docs/benchmarks-profile.md. tools/harness
# starts the services with the same flag, so tests and benchmarks run what is deployed.
ENV NODE_OPTIONS=--max-semi-space-size=2
# Owned by root and read-only for the service user; the only writable place is /var/lib/ceb179
# (eport-sim's card file in compose), and the pods run with a read-only root filesystem.
COPY --from=build /app /app
ARG SERVICE=ingress
ENV SERVICE=${SERVICE}
USER 10001:10001
# ingress listens on CEB179_INGRESS_PORT (8080), customs-sim on 8090, eport-sim on 61232.
EXPOSE 8080
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/bin/sh", "-c", "if [ -d \"services/${SERVICE}\" ]; then exec node \"services/${SERVICE}/dist/main.js\"; else exec node \"simulators/${SERVICE}/dist/main.js\"; fi"]
