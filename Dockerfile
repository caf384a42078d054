# syntax=docker/dockerfile:1
# surecron image: one image, two entry points. CMD runs the worker; the API service overrides it with
# `npm run start:api`. The workflow bundle is built here so the worker never bundles at start-up. App files stay
# root-owned and read-only to the `node` user the processes run as.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY scripts ./scripts
RUN npm run build:bundle -- /app/dist/workflow-bundle.js \
  && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
  NPM_CONFIG_UPDATE_NOTIFIER=false \
  SURECRON_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json /app/tsconfig.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/src ./src
COPY --from=build /app/dist/workflow-bundle.js ./dist/workflow-bundle.js
USER node
EXPOSE 8080
CMD ["npm", "run", "start:worker"]
