# syntax=docker/dockerfile:1
# The SDE Enclave Operator image: the Node 24 base image plus one JavaScript file,
# dist/sde-operator.mjs, the `sde-operator` command with every package it imports, bundled by
# `npm run build` (scripts/build.ts, esbuild), with its source map and licence notices. No
# node_modules and no TypeScript sources: the bundle needs less memory than cli/main.ts under
# Node's type stripping (measured on `sde-operator crds`: 125 MB resident instead of 175 MB). The
# build stage is thrown away. Nothing is written at run time (the Deployment mounts the root
# read-only).
#
#   docker build -t ghcr.io/sde-london/sde-operator:0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .
#
# Pin the base by digest for production (node:24.21.0-bookworm-slim@sha256:...).
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Every locked dependency, dev ones too: esbuild is one, and the bundle takes the rest. No install
# scripts: esbuild finds its binary in its platform package (@esbuild/linux-x64 or -arm64), and the
# `node` dev dependency installs no second Node, so `npm run build` runs on this image's Node.
RUN npm ci --no-audit --no-fund --ignore-scripts
# What cli/main.ts imports, and the build script. The development tools it loads only when asked
# for (the local Kubernetes, the demo) are left out of the bundle, so devcluster/ is not copied.
COPY api/ ./api/
COPY cli/ ./cli/
COPY constructs/ ./constructs/
COPY operator/ ./operator/
COPY policy/ ./policy/
COPY isolation/ ./isolation/
COPY scripts/ ./scripts/
RUN npm run build

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
# The bundle, its source map and dist/sde-operator.mjs.LEGAL.txt (the bundled packages' licence
# notices). Files stay owned by root: the operator's user can read them and change nothing.
COPY --from=build /app/dist/ ./dist/
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "dist/sde-operator.mjs"]
CMD ["run"]
