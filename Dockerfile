# syntax=docker/dockerfile:1
# The state API on the Azure Functions Node 22 image. Stage 1 compiles TypeScript, bundles the function
# files (dev/bundle-functions.mjs, esbuild) and keeps only the production dependencies; stage 2 is the
# Functions host with the built app in wwwroot. The base
# image's entrypoint starts the host: no CMD override.

FROM mcr.microsoft.com/azure-functions/node:4-node22 AS build
WORKDIR /src
COPY package.json package-lock.json ./
# No install scripts are needed to build or run the app (native test tooling is never loaded here).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
# Everything tsconfig.build.json compiles. scripts/ ships so operator CLIs can run next to the
# app's Dapr sidecar (e.g. `az containerapp exec`); dev/ holds the bundler the build runs and the
# local runtime, whose compiled dist/dev is dropped.
COPY functions ./functions
COPY shared ./shared
COPY dev ./dev
COPY scripts ./scripts
RUN npm run build \
 && rm -rf dist/dev \
 && npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM mcr.microsoft.com/azure-functions/node:4-node22
ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true \
    NODE_ENV=production
WORKDIR /home/site/wwwroot
COPY host.json package.json ./
COPY --from=build /src/dist ./dist
COPY --from=build /src/node_modules ./node_modules
