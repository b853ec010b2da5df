# The zcsp image: one image, one subcommand per role (manager, vra, zcc, restore, console, diag).
# Node 24 runs the TypeScript sources by type stripping, so nothing is compiled: the first stage
# installs the production dependencies, the second is what runs.
#
# NODE_VERSION is the Node the tests run on (package.json pins it as the devDependency "node"),
# so the image ships exactly what was tested; tools/kind/image.test.ts fails when they differ.
ARG NODE_VERSION=24.21.0

FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Only package.json's dependencies, exactly as locked. No install scripts: none of them needs one,
# and none gets to run code at build time.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Everything stays owned by root: the roles that run as the non-root user cannot change the code
# they run. .dockerignore keeps tests, their helpers and docs out of src/.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY src ./src
# `zcsp` on PATH, linked as npm links package.json's bin, so pods may say `command: [zcsp, …]` or
# `sh -c "zcsp …"`; main.ts's shebang runs it with the image's node. The user has a name so that
# tools asking "who am I" get an answer. npm, npx, corepack and yarn are of no use at run time.
RUN chmod 0755 /app/src/main.ts \
 && ln -s /app/src/main.ts /usr/local/bin/zcsp \
 && groupadd --gid 65532 zcsp \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin zcsp \
 && rm -rf /usr/local/lib/node_modules /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /usr/local/bin/yarn /usr/local/bin/yarnpkg /opt/yarn-*
# The manager, the console and the ZCC run as this user (their pods say so too). VRA and restore
# pods run as root by their own securityContext, with only the capabilities they need
# (DAC_READ_SEARCH and DAC_OVERRIDE for a VRA): nothing in the image depends on the user.
USER 65532:65532
ENTRYPOINT ["zcsp"]
