# syntax=docker/dockerfile:1
# The SDE Enclave Operator image. Node 24 runs operator/cli.ts directly (type stripping), so the
# image holds the TypeScript sources and the production dependencies only: no build step, no
# dev dependencies, nothing written at run time (the Deployment mounts the root read-only).
#
#   docker build -t ghcr.io/sde-london/sde-operator:0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
#
# Pin the base by digest for production (node:24.21.0-bookworm-slim@sha256:...).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Exactly the locked production dependencies; none of them needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="sde-operator" \
      org.opencontainers.image.description="SDE Enclave Operator: secure, GPU-backed research enclaves for NHS Secure Data Environments" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="https://github.com/sde-london/sde-enclave-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.vendor="London SDE" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# HOME points at the writable /tmp the Deployment mounts; the uid has no passwd entry.
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY api/ ./api/
COPY constructs/ ./constructs/
COPY operator/ ./operator/
COPY policy/ ./policy/
COPY isolation/ ./isolation/
COPY crds/ ./crds/
# operator/cli.ts registers the `devcluster` subcommand with a static import, so its code must be here too.
COPY devcluster/ ./devcluster/
# Files stay owned by root: the operator's user can read them and change nothing.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "operator/cli.ts"]
CMD ["run"]
