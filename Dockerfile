# Simu gateway. Build: docker build -t simu .   Run: docker run -e DATABASE_URL=… -e REDIS_URL=… -e WEBHOOK_SECRET=… -e ID_HASH_KEY=… -p 3000:3000 simu
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# No build tools needed: every native dependency ships a prebuilt binary per platform (checked in a
# minimal Debian 12 root with only Node, README "Where state lives"). The embedded PostgreSQL is a
# dev dependency (npm start/test on a machine without one); prune drops it, production needs DATABASE_URL.
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json knexfile.ts ./
COPY src ./src
COPY flows ./flows
COPY migrations ./migrations
COPY seeds ./seeds
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
CMD ["node", "dist/src/main.js"]
