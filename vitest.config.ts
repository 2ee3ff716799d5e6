import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; in this repo that is the source.
    alias: [
      {
        find: /^effect-okta-connections\/testing$/,
        replacement: fileURLToPath(new URL("./src/testing/index.ts", import.meta.url))
      },
      {
        find: /^effect-okta-connections\/redis$/,
        replacement: fileURLToPath(new URL("./src/redis/index.ts", import.meta.url))
      },
      {
        find: /^effect-okta-connections\/undici$/,
        replacement: fileURLToPath(new URL("./src/undici/index.ts", import.meta.url))
      },
      {
        find: /^effect-okta-connections$/,
        replacement: fileURLToPath(new URL("./src/index.ts", import.meta.url))
      }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    // The Redis suite needs a Redis: `npm run test:redis` (CI runs it), not `npm test`.
    exclude: ["test/redis/**", "node_modules/**"],
    // Property tests and the loopback-server tests are CPU-bound on a 2-core CI machine.
    testTimeout: 20_000
  }
})
