# perennial-operator: the operator image. Build from the repository root:
#   docker build -t perennial-operator .
# The operator is one esbuild bundle with every dependency inside (it never loads TensorFlow.js), so the runtime
# stage holds Node and that file only: no node_modules, no npm.

# The base, pinned by digest (the multi-arch index of node:24.11.1-bookworm-slim). A build that cannot pull it
# (make images on a machine without Docker Hub) passes --build-arg NODE_BASE=<a local image of that tag>.
ARG NODE_BASE=node:24.11.1-bookworm-slim@sha256:48abc13a19400ca3985071e287bd405a1d99306770eb81d61202fb6b65cf0b57

# 1. Bundle (dev dependencies are needed only here). Same pinned base as trainer-image/ and server-image/.
FROM ${NODE_BASE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json ./
COPY scripts/bundle.mjs scripts/
COPY src/ src/
RUN node scripts/bundle.mjs operator

# 2. Runtime: the same exact Node tag, without npm/npx/corepack (nothing installs packages at run time).
FROM ${NODE_BASE}
RUN rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /opt/yarn-* \
      /usr/local/bin/yarn /usr/local/bin/yarnpkg
WORKDIR /app
COPY --from=build /src/dist/operator/ ./
ENV NODE_ENV=production
# Nothing is written to the filesystem: the chart mounts the root filesystem read-only.
USER 65532:65532
EXPOSE 8081
# V8's heap policy, set here rather than left to what V8 infers from the machine (decision 0018): a 2 MiB young
# generation (semi-space) instead of 16 MiB, and an old generation capped at 3/4 of the chart's default memory limit
# (512Mi), so V8 collects before the heap grows to 4x what is live. Raise --max-old-space-size with
# resources.limits.memory (extraEnv NODE_OPTIONS replaces this whole line). No --enable-source-maps: it holds the
# bundle's source map decoded, about 40 MB of the operator's RSS; main.js.map is beside main.js for reading a stack.
# bench/operator-scale.ts runs the operator with this line.
ENV NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=384"
# glibc's malloc gives each thread that allocates its own arena (up to 8 per core), and memory freed in one stays
# resident there: Node's threads (V8's GC helpers, libuv's pool) are many, the operator's native allocations
# few. Two arenas (decision 0018). bench/operator-scale.ts runs the operator with this line too.
ENV MALLOC_ARENA_MAX=2
ENTRYPOINT ["/usr/local/bin/node", "/app/main.js"]
