# syntax=docker/dockerfile:1
#
# One image build for every Airlock service. Pick the service with --target:
#
#   docker build --target ingress-proxy -t airlock/ingress-proxy .
#
# Targets: ingress-proxy, policy, approval, recorder, credential-vault (long-running services)
# and kafka-init (one-shot: creates every Kafka topic, then exits). All targets share the
# `build` and `runtime` layers, so building all six costs one `npm ci` and one `tsc`.
# Building without --target gives the last stage (kafka-init); always name the target.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: compile the whole workspace once, then drop dev dependencies ------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app

# Dependencies first so that a source change does not re-run `npm ci`.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund

# .dockerignore keeps tests, benchmarks, local state and secrets out of this copy.
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- runtime: compiled JavaScript + production node_modules, nothing else -----------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    HTTP_HOST=0.0.0.0
WORKDIR /app

# Owned by root and not writable by the service user: a compromised process cannot rewrite
# its own code.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist

# The `node` user of the base image, by number so that Kubernetes `runAsNonRoot` can verify it.
USER 1000:1000

# Every service answers GET /health on HTTP_PORT: 200 when ready, 503 otherwise.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.HTTP_PORT + '/health', { signal: AbortSignal.timeout(2500) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# --- one target per service ---------------------------------------------------------------
FROM runtime AS ingress-proxy
ENV HTTP_PORT=8080
EXPOSE 8080
CMD ["node", "dist/services/ingress-proxy/src/main.js"]

FROM runtime AS policy
ENV HTTP_PORT=8081
EXPOSE 8081
CMD ["node", "dist/services/policy/src/main.js"]

FROM runtime AS approval
ENV HTTP_PORT=8082
EXPOSE 8082
CMD ["node", "dist/services/approval/src/main.js"]

FROM runtime AS recorder
ENV HTTP_PORT=8083
EXPOSE 8083
CMD ["node", "--initial-old-space-size=256", "--max-semi-space-size=64", "dist/services/recorder/src/main.js"]

FROM runtime AS credential-vault
ENV HTTP_PORT=8084
EXPOSE 8084
CMD ["node", "dist/services/credential-vault/src/main.js"]

# One-shot job: creates every topic of the contract catalogue (broker auto-create is off).
FROM runtime AS kafka-init
HEALTHCHECK NONE
CMD ["node", "dist/infra/local/topics.js"]
