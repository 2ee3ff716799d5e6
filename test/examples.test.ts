/**
 * Every example runs against the embedded simulator (a loopback server), so none can rot; and the
 * standalone `npm run simulator` starts, prints its JSON line, serves, and stops on SIGINT.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Console, Effect, type Layer } from "effect"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { program as activate } from "../examples/activate-connection.js"
import { program as batch } from "../examples/batch.js"
import { program as consentFlow } from "../examples/consent-flow.js"
import { program as deactivate } from "../examples/deactivate-connection.js"
import { program as getConnection } from "../examples/get-connection.js"
import { program as jwks } from "../examples/get-jwks.js"
import { demo } from "../examples/main.js"
import { program as serviceApp, simulatedServiceApp } from "../examples/service-app.js"
import { SimulatorTarget } from "../examples/support/Example.js"
import { program as tokenSetup } from "../examples/token-setup.js"
import { program as update } from "../examples/update-connection.js"
import { program as verify } from "../examples/verify-connection.js"
import { OktaSimulator, serve } from "../src/testing/index.js"
import { runNode } from "./support/subprocess.js"

/** The README's sample output of `npm start`. */
const readmeSample = () => {
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
  const start = readme.indexOf("```text\neffect-okta-connections demo")
  expect(start).toBeGreaterThan(0)
  const body = readme.slice(start + "```text\n".length)
  return body.slice(0, body.indexOf("```")).trimEnd().split("\n")
}
const normalize = (line: string) =>
  line
    .replace(/kid [A-Za-z0-9_-]+/, "kid …")
    .replace(/\d+(\.\d+)?/g, "N")
    // A count of one is said in the singular (the batch's gate waits may come to exactly 1).
    .replace(/N (retry|gate wait|request)\b(?!s)/g, (_, noun: string) =>
      noun === "retry" ? "N retries" : `N ${noun}s`
    )
    .trimEnd()

/** Runs an example on a fresh simulator, returning what it printed. */
type Provided = Layer.Layer.Success<ReturnType<typeof SimulatorTarget>>
const runExample = <E, R extends Provided>(
  program: Effect.Effect<void, E, R>,
  target = SimulatorTarget({ rateLimit: { limit: 60, windowSeconds: 1 } })
) =>
  Effect.gen(function* () {
    const lines: Array<string> = []
    const capture: Console.Console = {
      ...(yield* Effect.console),
      log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void lines.push(args.join(" "))),
      error: (...args: ReadonlyArray<unknown>) =>
        Effect.sync(() => void lines.push(`ERROR ${args.join(" ")}`))
    }
    yield* program.pipe(Effect.scoped, Effect.provide(target), Effect.withConsole(capture))
    return lines
  })

describe("examples on the simulator", () => {
  it.live("get-connection", () =>
    Effect.map(runExample(getConnection), (lines) =>
      expect(lines).toEqual([
        "   0oasimzscaler0000001: ENABLED, auth scheme TOKEN",
        "     baseUrl https://scim.zscalerbeta.net/1234567/890/scim",
        "     lifecycle link offered: deactivate"
      ])
    )
  )

  it.live("update-connection", () =>
    Effect.map(runExample(update), (lines) =>
      expect(lines).toEqual(["   0oasimzscaler0000001: saved; status DISABLED, auth scheme TOKEN"])
    )
  )

  it.live("activate-connection", () =>
    Effect.map(runExample(activate), (lines) =>
      expect(lines).toEqual(["   0oasimorg2orgtoken01: activated; status now ENABLED"])
    )
  )

  it.live("deactivate-connection", () =>
    Effect.map(runExample(deactivate), (lines) =>
      expect(lines).toEqual(["   0oasimzscaler0000001: deactivated; status now DISABLED"])
    )
  )

  it.live("get-jwks", () =>
    Effect.map(runExample(jwks), (lines) => {
      expect(lines[0]).toBe("   0oasimorg2orgoauth01: 1 signing key")
      expect(lines[1]).toMatch(/^ {5}kid \S+ · RSA 2048 bits · alg RS256 · use sig$/)
    })
  )

  it.live("verify-connection", () =>
    Effect.map(runExample(verify), (lines) =>
      expect(lines).toEqual(["   office365 0oasimoffice36500001: consent verified"])
    )
  )

  it.live("service-app: private_key_jwt, one token for three calls, DPoP proofs", () =>
    Effect.map(runExample(serviceApp, simulatedServiceApp()), (lines) =>
      expect(lines).toEqual([
        "   call 1: 0oasimzscaler0000001 ENABLED",
        "   call 2: 0oasimzscaler0000001 ENABLED",
        "   call 3: 0oasimzscaler0000001 ENABLED",
        "   1 token request for 3 API calls; 3 sent with a DPoP proof"
      ])
    )
  )

  it.live("token-setup", () =>
    Effect.map(runExample(tokenSetup), (lines) =>
      expect(lines).toEqual([
        "   update     → DISABLED (activate link offered)",
        "   activate   → done",
        "   get        → ENABLED, TOKEN, baseUrl https://targetorg.okta.com",
        "   deactivate → DISABLED"
      ])
    )
  )

  it.live("consent-flow, for office365, google, slack and zoomus", () =>
    Effect.map(runExample(consentFlow), (lines) => {
      expect(lines).toHaveLength(8)
      for (const name of ["office365", "google", "slack", "zoomus"]) {
        expect(lines).toContain(`   ${name.padEnd(9)} consent → verify → activate → ENABLED`)
      }
    })
  )

  it.live(
    "batch: everything read, retries and gate waits shown",
    () =>
      Effect.map(runExample(batch), (lines) => {
        const summary = lines.at(-1)!
        expect(summary).toMatch(
          /^ {3}done in [\d.]+ s: 120 read, 0 failed · 3 retries · \d+ requests? held at the rate-limit gate$/
        )
        expect(Number(/(\d+) requests? held/.exec(summary)![1])).toBeGreaterThan(0)
        expect(lines.filter((l) => l.startsWith("   ["))).toHaveLength(4)
      }),
    30_000
  )

  it.live(
    "main (npm start): every section, and done",
    () =>
      Effect.map(runExample(demo), (lines) => {
        const text = lines.join("\n")
        for (const title of [
          "1. Token-based setup",
          "2. Three-legged OAuth 2.0",
          "3. JWKS",
          "4. Batch",
          "5. Typed errors"
        ]) {
          expect(text).toContain(title)
        }
        expect(text).toContain("OktaNotFoundError")
        expect(text).toContain("OktaInvalidInputError")
        expect(text).not.toContain("ERROR")
        expect(lines.at(-1)).toBe("\nDone.")
        // The README's sample output is what the demo prints, but for numbers (ports, counts,
        // timings), the key id, and the long lines it cuts with "…".
        const printed = text.split("\n").map(normalize)
        const sample = readmeSample().map(normalize)
        expect(printed).toHaveLength(sample.length)
        sample.forEach((line, i) => {
          if (line.endsWith("…")) expect(printed[i]!.startsWith(line.slice(0, -1))).toBe(true)
          else expect(printed[i]).toBe(line)
        })
      }),
    30_000
  )
})

describe("npm run simulator (the command line's simulator, from the sources)", () => {
  it.live(
    "prints {url, token, apps} first, serves the API as its options say, and stops on SIGINT",
    () =>
      Effect.gen(function* () {
        // As a user runs it, in a process group of its own, so that SIGINT reaches all of it as a
        // terminal's Ctrl-C does (npm, tsx and the command line).
        const child = spawn(
          "npm",
          [
            "run",
            "--silent",
            "simulator",
            "--",
            "--token",
            "cli-token",
            "--rate-limit",
            "7",
            "--window-seconds",
            "2",
            ...["--concurrency-limit", "3", "--latency-ms", "5", "--batch-apps", "2"],
            "--content-length",
            ...["--fault", "502:gateway,path=/jwks", "--fault", "drop,method=DELETE"]
          ],
          {
            cwd: fileURLToPath(new URL("..", import.meta.url)),
            stdio: ["ignore", "pipe", "pipe"],
            detached: true
          }
        )
        // A failed expectation leaves no server behind: the whole group goes with the test.
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            try {
              process.kill(-child.pid!, "SIGKILL")
            } catch {
              // Already gone, as after the Ctrl-C below.
            }
          })
        )
        // Every line up to the banner's last, the curl hint.
        const printed = yield* Effect.async<ReadonlyArray<string>>((resume) => {
          const lines: Array<string> = []
          createInterface({ input: child.stdout }).on("line", (line) => {
            lines.push(line)
            if (line.startsWith("  try: curl")) resume(Effect.succeed(lines))
          })
        })
        expect(printed).toContain("  rate limit: 7 per 2 s, 3 in flight")
        expect(printed).toContain("  latency: 5 ms a request")
        expect(printed).toContain("  fault armed: 502:gateway,path=/jwks")
        expect(printed).toContain("  fault armed: drop,method=DELETE")
        const info = JSON.parse(printed[0]!) as {
          url: string
          token: string
          apps: Array<{ id: string; name: string }>
        }
        expect(info.token).toBe("cli-token")
        expect(info.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        expect(info.apps.map((a) => a.name)).toEqual(
          expect.arrayContaining([
            "zscalerbyz",
            "okta_org2org",
            "office365",
            "google",
            "slack",
            "zoomus"
          ])
        )
        const response = yield* Effect.promise(() =>
          fetch(`${info.url}/api/v1/apps/${info.apps[0]!.id}/connections/default`, {
            headers: { authorization: "SSWS cli-token" }
          })
        )
        expect(response.status).toBe(200)
        expect(response.headers.get("x-rate-limit-limit")).toBe("7")
        // --content-length: the body's length declared, not chunked.
        expect(response.headers.get("content-length")).toBe(
          String(Buffer.byteLength(yield* Effect.promise(() => response.text())))
        )
        expect(info.apps.map((app) => app.id)).toEqual(
          expect.arrayContaining(["0oasimbatch000000000", "0oasimbatch000000001"])
        )
        // --fault: the JWKS path's 502, as AWS API Gateway words it (the GET above passed it by).
        const jwks = yield* Effect.promise(() =>
          fetch(`${info.url}/api/v1/apps/${info.apps[0]!.id}/connections/default/jwks`, {
            headers: { authorization: "SSWS cli-token" }
          })
        )
        expect(jwks.status).toBe(502)
        expect(yield* Effect.promise(() => jwks.json())).toEqual({ message: expect.any(String) })
        // Ctrl-C stops it: npm ends as the command line did, interrupted.
        const ended = yield* Effect.async<string>((resume) => {
          child.once("exit", (exitCode, signal) => resume(Effect.succeed(`${exitCode ?? signal}`)))
          process.kill(-child.pid!, "SIGINT")
        })
        expect(["130", "SIGINT"]).toContain(ended)
      }).pipe(Effect.scoped),
    30_000
  )
})

describe("examples against an org given by the environment (the simulator standing in)", () => {
  /** Runs an example script with `env`, standard input not a terminal. */
  const script = (name: string, env: Record<string, string>) =>
    runNode(["--import", "tsx", `examples/${name}.ts`], { ...process.env, ...env })
  const org = Effect.gen(function* () {
    const { url } = yield* serve()
    const sim = yield* OktaSimulator
    return {
      sim,
      env: {
        OKTA_CLIENT_ORGURL: url,
        OKTA_CLIENT_TOKEN: "examples-token",
        OKTA_EXAMPLES_WRITE: "1"
      }
    }
  }).pipe(Effect.provide(OktaSimulator.layer({ tokens: [{ token: "examples-token" }] })))

  it.live(
    "on an org, an example that writes a token sends the one given, never its placeholder",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const zscaler = { ...env, OKTA_APP_ID: "0oasimzscaler0000001" }
        const unset = { ZSCALER_BASE_URL: "", ZSCALER_TOKEN: "", ORG2ORG_TOKEN: "" }
        const [update, setup] = yield* Effect.all(
          [
            script("update-connection", { ...zscaler, ...unset }),
            script("token-setup", {
              ...env,
              ...unset,
              OKTA_APP_ID: "0oasimorg2orgtoken01",
              ORG2ORG_TARGET_URL: "https://target.example.okta.com"
            })
          ],
          { concurrency: 2 }
        )
        expect([update.code, setup.code]).toEqual([1, 1])
        expect(update.stderr).toContain(
          "set ZSCALER_BASE_URL and ZSCALER_TOKEN: on an org this example sends what you give it (its placeholders are sent to the simulator only)"
        )
        expect(setup.stderr).toContain("set ORG2ORG_TOKEN: on an org")
        expect(yield* sim.requests).toEqual([])
        const given = yield* script("update-connection", {
          ...zscaler,
          ZSCALER_BASE_URL: "https://scim.example.com/v2",
          ZSCALER_TOKEN: "00given-zscaler-token"
        })
        expect([given.code, given.stderr]).toEqual([0, ""])
        expect((yield* sim.inspect("0oasimzscaler0000001")).connection).toMatchObject({
          baseUrl: "https://scim.example.com/v2",
          token: "00given-zscaler-token"
        })
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "consent-flow refuses placeholder Office 365 credentials, and needs a terminal",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        const base = { ...env, OKTA_APP_ID: "0oasimoffice36500001", OKTA_APP_NAME: "office365" }
        const placeholders = yield* script("consent-flow", base)
        expect(placeholders.code).toBe(1)
        expect(placeholders.stderr).toContain("set O365_ADMIN_USERNAME and O365_ADMIN_PASSWORD")
        const noTerminal = yield* script("consent-flow", {
          ...base,
          O365_ADMIN_USERNAME: "admin@contoso.onmicrosoft.com",
          O365_ADMIN_PASSWORD: "a-real-looking-password"
        })
        expect(noTerminal.code).toBe(1)
        expect(noTerminal.stderr).toContain("needs a terminal")
        // The whole consent URL, state included: without it the consent cannot be given at all.
        expect(noTerminal.stderr).toMatch(
          /Consent in a browser at http:\/\/127\.0\.0\.1:\d+\/simulator\/consent\/office365\/0oasimoffice36500001\?state=\S+ and rerun/
        )
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "on an org, an example that writes refuses without OKTA_EXAMPLES_WRITE=1, and one missing its app ids says which",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const readOnly = { ...env, OKTA_EXAMPLES_WRITE: "", OKTA_APP_ID: "0oasimzscaler0000001" }
        const writers = [
          "update-connection",
          "activate-connection",
          "deactivate-connection",
          "token-setup",
          "verify-connection",
          "consent-flow"
        ]
        const runs = yield* Effect.forEach(writers, (name) => script(name, readOnly), {
          concurrency: 2
        })
        for (const [i, run] of runs.entries()) {
          expect([writers[i], run.code]).toEqual([writers[i], 1])
          expect(run.stderr).toContain(
            "this example changes your org's provisioning configuration: set OKTA_EXAMPLES_WRITE=1 to allow it"
          )
        }
        // Nothing was sent, not even a read.
        expect(yield* sim.requests).toEqual([])
        const noIds = yield* Effect.all(
          [
            script("get-connection", { ...env, OKTA_APP_ID: "" }),
            script("batch", { ...env, OKTA_APP_IDS: " , " })
          ],
          { concurrency: 2 }
        )
        expect(noIds.map((run) => run.code)).toEqual([1, 1])
        expect(noIds[0]!.stderr).toContain(
          "set OKTA_APP_ID to the id of a Zscaler 2.0 app (zscalerbyz) of your org"
        )
        expect(noIds[1]!.stderr).toContain("set OKTA_APP_IDS to a comma-separated list of app ids")
        expect(yield* sim.requests).toEqual([])
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "verify-connection honours OKTA_APP_NAME and OKTA_CONTINUE_URL",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const google = "0oasimgoogle00000001"
        const { code, state } = yield* sim.consent(google)
        const continueUrl = `${env.OKTA_CLIENT_ORGURL}/continue?code=${code}&state=${state}`
        const run = yield* script("verify-connection", {
          ...env,
          OKTA_APP_ID: google,
          OKTA_APP_NAME: "google",
          OKTA_CONTINUE_URL: continueUrl
        })
        expect(run.stderr).toBe("")
        expect(run.code).toBe(0)
        expect(run.stdout).toContain(`google ${google}: consent verified`)
        expect((yield* sim.inspect(google)).connection?.verified).toBe(true)
        // Cut at its "&" by a shell, the URL keeps its code alone: said, and nothing sent.
        const before = (yield* sim.requests).length
        const cut = yield* script("verify-connection", {
          ...env,
          OKTA_APP_ID: google,
          OKTA_APP_NAME: "google",
          OKTA_CONTINUE_URL: continueUrl.split("&")[0]!
        })
        expect(cut.code).toBe(1)
        expect(cut.stderr).toContain(
          "that is not a continue_oauth_flow_url with code and state (it has a code but no state: quote the URL, '…', or a shell cuts it at its &)"
        )
        expect((yield* sim.requests).length).toBe(before)
        const wrongName = yield* script("verify-connection", { ...env, OKTA_APP_NAME: "okta" })
        expect(wrongName.code).toBe(1)
        expect(wrongName.stderr).toContain("OKTA_APP_NAME must be one of")
      }).pipe(Effect.scoped),
    60_000
  )
})
