import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Property tests and the loopback-server tests are CPU-bound on a 2-core CI machine.
    testTimeout: 20_000,
    sequence: { concurrent: false }
  }
})
