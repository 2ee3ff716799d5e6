import { defineConfig } from "vitest/config"
import base from "./vitest.config.js"

declare module "vitest" {
  export interface ProvidedContext {
    /** The ioredis major a project of this suite loads as `ioredis`. */
    readonly ioredisMajor: 5 | 6
  }
}

const aliases = Array.isArray(base.resolve?.alias) ? base.resolve.alias : []
// Each project's own: a project does not inherit the root's test options.
const shared = { include: ["test/redis/**/*.test.ts"], testTimeout: 30_000 }

// The suite against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): `npm run test:redis`.
// It runs once on each ioredis major the peer range allows: 5 (what `ioredis` is here) and 6
// (the `ioredis-6` alias), the version a project without @effect/platform-node installs today.
export default defineConfig({
  test: {
    // One file at a time: the suite measures windows and waits, which a second file running on
    // the other core would slow.
    fileParallelism: false,
    projects: [
      {
        resolve: { alias: aliases },
        test: { ...shared, name: "ioredis 5", provide: { ioredisMajor: 5 } }
      },
      {
        resolve: { alias: [...aliases, { find: /^ioredis$/, replacement: "ioredis-6" }] },
        test: { ...shared, name: "ioredis 6", provide: { ioredisMajor: 6 } }
      }
    ]
  }
})
