/**
 * `okta-connections` (dist/cli.mjs, as `npm run build` leaves it) run as a subprocess against the
 * loopback simulator: outputs (table, JSON, NDJSON, PEM), exit codes, ids from a file and from
 * standard input, and nothing secret in any output.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { OktaSimulator, serve } from "../src/testing/index.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const cliPath = join(root, "dist/cli.mjs")
const TOKEN = "00cli-test-token-secret"

const cli = (args: ReadonlyArray<string>, env: Record<string, string>, stdin?: string) =>
  Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.end(stdin ?? "")
    child.once("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
  })

/** A fresh simulated org on a loopback port, and the environment that points the CLI at it. */
const org = Effect.gen(function* () {
  const { url } = yield* serve()
  const sim = yield* OktaSimulator
  return { sim, env: { OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: TOKEN } }
}).pipe(Effect.provide(OktaSimulator.layer({ tokens: [{ token: TOKEN }] })))

const ZSCALER = "0oasimzscaler0000001"
const ORG2ORG = "0oasimorg2orgtoken01"

describe("okta-connections", () => {
  it("is built (npm test builds first)", () => {
    expect(existsSync(cliPath)).toBe(true)
  })

  it.live(
    "get: a table, --json and --ndjson; a missing app fails only itself (exit 1)",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        const table = yield* cli(["get", ZSCALER, ORG2ORG], env)
        expect(table.code).toBe(0)
        expect(table.stdout.split("\n")[0]).toMatch(/^APP ID\s+STATUS\s+AUTH\s+BASE URL$/)
        expect(table.stdout).toMatch(new RegExp(`${ZSCALER}\\s+ENABLED\\s+TOKEN\\s+https://scim`))
        const json = yield* cli(["get", ZSCALER, "--json"], env)
        expect(JSON.parse(json.stdout)).toMatchObject([{ id: ZSCALER, status: "ENABLED" }])
        const missing = yield* cli(["get", ZSCALER, "0oanosuchapp00000001", "--ndjson"], env)
        expect(missing.code).toBe(1)
        expect(
          missing.stdout
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l).id)
        ).toEqual([ZSCALER])
        expect(missing.stderr).toContain("0oanosuchapp00000001: OktaNotFoundError")
        expect(missing.stderr).toContain("request id")
        expect(missing.stderr).toContain("1 of 2 apps succeeded")
        for (const run of [table, json, missing]) {
          expect(run.stdout + run.stderr).not.toContain(TOKEN)
        }
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "activate and deactivate: ids from a file and from standard input",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const file = join(mkdtempSync(join(tmpdir(), "okta-cli-")), "apps.txt")
        writeFileSync(file, `# the Org2Org app\n${ORG2ORG}\n`)
        const activated = yield* cli(["activate", "--from", file], env)
        expect(activated.code).toBe(0)
        expect(activated.stdout.trim()).toBe(`${ORG2ORG}: activated`)
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("ENABLED")
        const deactivated = yield* cli(["deactivate", "-"], env, `${ORG2ORG}\n`)
        expect(deactivated.code).toBe(0)
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("DISABLED")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "jwks: the keys as JSON, or as PEM",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        const jwk = yield* cli(["jwks", "0oasimorg2orgoauth01"], env)
        expect(JSON.parse(jwk.stdout.trim().split("\n")[0]!)).toMatchObject({ kty: "RSA" })
        const pem = yield* cli(["jwks", "0oasimorg2orgoauth01", "--pem"], env)
        expect(pem.code).toBe(0)
        expect(pem.stdout).toContain("-----BEGIN PUBLIC KEY-----")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "exit codes: 2 for usage, 3 for configuration or credentials",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        const noIds = yield* cli(["get"], env)
        expect(noIds.code).toBe(2)
        expect(noIds.stderr).toContain("give at least one app id")
        const badOption = yield* cli(["--concurrency", "many", "get", ZSCALER], env)
        expect(badOption.code).toBe(2)
        const noToken = yield* cli(["get", ZSCALER], { OKTA_CLIENT_ORGURL: env.OKTA_CLIENT_ORGURL })
        expect(noToken.code).toBe(3)
        expect(noToken.stderr).toContain("OKTA_CLIENT_TOKEN")
        const wrongToken = yield* cli(["get", ZSCALER], {
          ...env,
          OKTA_CLIENT_TOKEN: "00wrong-token"
        })
        expect(wrongToken.code).toBe(3)
        expect(wrongToken.stderr).toContain("OktaUnauthorizedError")
        expect(wrongToken.stdout + wrongToken.stderr).not.toContain("00wrong-token")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "simulator: the same first line as npm run simulator",
    () =>
      Effect.gen(function* () {
        const child = spawn(process.execPath, [cliPath, "simulator", "--token", "sim-token"], {
          cwd: root,
          stdio: ["ignore", "pipe", "inherit"]
        })
        const first = yield* Effect.async<string>((resume) => {
          child.stdout.once("data", (chunk: Buffer) =>
            resume(Effect.succeed(chunk.toString().split("\n")[0]!))
          )
        })
        const info = JSON.parse(first) as { url: string; token: string }
        expect(info.token).toBe("sim-token")
        const got = yield* cli(["get", ZSCALER, "--json"], {
          OKTA_CLIENT_ORGURL: info.url,
          OKTA_CLIENT_TOKEN: "sim-token"
        })
        expect(got.code).toBe(0)
        child.kill("SIGINT")
      }),
    30_000
  )
})
