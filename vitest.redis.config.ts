import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

// The suite against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): `npm run test:redis`.
export default defineConfig({
  ...(base.resolve !== undefined ? { resolve: base.resolve } : {}),
  test: { include: ["test/redis/**/*.test.ts"], testTimeout: 30_000 }
})
