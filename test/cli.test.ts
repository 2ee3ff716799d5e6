/**
 * `okta-connections` (dist/cli/main.mjs, as `npm run build` leaves it) run as a subprocess against the
 * loopback simulator: outputs (table, JSON, NDJSON, PEM), exit codes, ids from a file and from
 * standard input, and nothing secret in any output.
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { generateKeyPairSync } from "node:crypto"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { type AddressInfo, createServer } from "node:net"
import { join } from "node:path"
import { stripVTControlCharacters } from "node:util"
import { Progress } from "../cli/shared.js"
import { VERSION } from "../src/index.js"
import { generatedApps, OktaSimulator, type PublicJwk, serve } from "../src/testing/index.js"
import { loopbackServer, refusingProxy, tunnellingProxy } from "./support/loopback.js"
import { root, runNode } from "./support/subprocess.js"

const cliPath = join(root, "dist/cli/main.mjs")
const TOKEN = "00cli-test-token-secret"

// Every directory the tests write goes under one, removed when this file's tests end.
const scratch = mkdtempSync(join(tmpdir(), "okta-cli-test-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))
const tempDir = (prefix: string) => mkdtempSync(join(scratch, prefix))

/** The app ids of `--ndjson` output, in its order. */
const idsOf = (ndjson: string): ReadonlyArray<string> =>
  ndjson
    .trim()
    .split("\n")
    .map((line) => (JSON.parse(line) as { readonly id: string }).id)

// A home of its own, so that an ~/.okta/okta.yaml of the machine's plays no part.
const emptyHome = tempDir("home-")

const cli = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  stdin?: string,
  cwd?: string,
  stdinAfterMillis?: number
) =>
  runNode(
    [cliPath, ...args],
    { PATH: process.env["PATH"] ?? "", HOME: emptyHome, ...env },
    stdin,
    cwd,
    stdinAfterMillis
  )

/** The CLI as a child process against `url`, its output collected as it comes. */
const spawnCli = (args: ReadonlyArray<string>, url: string, stdin = "") => {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: root,
    env: {
      PATH: process.env["PATH"] ?? "",
      HOME: emptyHome,
      OKTA_CLIENT_ORGURL: url,
      OKTA_CLIENT_TOKEN: TOKEN
    },
    stdio: "pipe"
  })
  child.stdin.end(stdin)
  const output = { stdout: "", stderr: "" }
  child.stdout.on("data", (chunk: Buffer) => (output.stdout += chunk.toString()))
  child.stderr.on("data", (chunk: Buffer) => (output.stderr += chunk.toString()))
  return { child, output }
}

/**
 * The CLI on a terminal of its own (util-linux's `script` gives it one), `typed` written to it as
 * keys are: "\x04" is Ctrl-D. Standard output and error are the terminal's one stream.
 */
const inTerminal = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  typed: string,
  // Typed once the output shows this (a prompt), as a person types: before that, the terminal
  // still echoes what it is given.
  after?: string
) =>
  Effect.async<{ code: number | null; output: string }>((resume) => {
    const quoted = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`
    const command = [process.execPath, cliPath, ...args].map(quoted).join(" ")
    const child = spawn("script", ["-qec", command, "/dev/null"], {
      cwd: root,
      env: { PATH: process.env["PATH"] ?? "", HOME: emptyHome, ...env },
      stdio: ["pipe", "pipe", "inherit"]
    })
    let output = ""
    let waiting = after !== undefined
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (waiting && output.includes(after!)) {
        waiting = false
        child.stdin.end(typed)
      }
    })
    if (!waiting) child.stdin.end(typed)
    child.once("exit", (code) =>
      resume(Effect.succeed({ code, output: output.replaceAll("\r\n", "\n") }))
    )
  })

/** `okta-connections simulator` with `args`, its standard output piped. */
const spawnSimulator = (args: ReadonlyArray<string>) =>
  spawn(process.execPath, [cliPath, "simulator", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"]
  })

/** The first line a child writes to standard output. */
const firstLine = (child: ChildProcess) =>
  Effect.async<string>((resume) => {
    child.stdout!.once("data", (chunk: Buffer) =>
      resume(Effect.succeed(chunk.toString().split("\n")[0]!))
    )
  })

/** Waits, in steps of 20 ms (10 s at most), until `done()`. */
const until = (done: () => boolean) =>
  Effect.repeat(
    Effect.suspend(() =>
      done() ? Effect.succeed(true) : Effect.as(Effect.sleep("20 millis"), false)
    ),
    { until: (ended) => ended, times: 500 }
  )

/**
 * `okta-connections simulator` with `args`, stopped when the scope closes: a wait for `text` in
 * what it printed (which it then gives), and all it has printed so far.
 */
const watchedSimulator = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const child = spawnSimulator(args)
    yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGINT")))
    let stdout = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    const printed = (text: string) =>
      until(() => stdout.includes(text)).pipe(Effect.zipRight(Effect.sync(() => stdout)))
    return { printed, stdout: () => stdout }
  })

/** Its exit code, once `stop` (a signal, a closed pipe) has ended it; 10 s at most. */
const exitAfter = (child: ChildProcess, stop: () => void) =>
  Effect.async<number | null>((resume) => {
    // Ended already (it should not have): say how, rather than wait for an exit event.
    if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
    child.once("exit", (code) => resume(Effect.succeed(code)))
    stop()
  }).pipe(Effect.timeout("10 seconds"))

/** A fresh simulated org on a loopback port, and the environment that points the CLI at it. */
const org = Effect.gen(function* () {
  const { url } = yield* serve()
  const sim = yield* OktaSimulator
  return { sim, env: { OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: TOKEN } }
}).pipe(Effect.provide(OktaSimulator.layer({ tokens: [{ token: TOKEN }] })))

/** Okta's variables for a service app with `okta.apps.read` (PrivateKey mode). */
const serviceAppEnv = (url: string, clientId: string, privateKey: string) => ({
  OKTA_CLIENT_ORGURL: url,
  OKTA_CLIENT_AUTHORIZATIONMODE: "PrivateKey",
  OKTA_CLIENT_CLIENTID: clientId,
  OKTA_CLIENT_SCOPES: "okta.apps.read",
  OKTA_CLIENT_PRIVATEKEY: privateKey
})

/** A manifest file of these lines, in a directory of its own. */
const manifestOf = (lines: ReadonlyArray<string>) => {
  const path = join(tempDir("work-"), "connections.yaml")
  writeFileSync(path, lines.join("\n"))
  return path
}

const ZSCALER = "0oasimzscaler0000001"
const COMMAND_NAMES = [
  "get",
  "update",
  "activate",
  "deactivate",
  "jwks",
  "verify",
  "apply",
  "simulator"
]
const ORG2ORG_OAUTH = "0oasimorg2orgoauth01"
const OFFICE365 = "0oasimoffice36500001"
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
        // Several apps: how many succeeded is said even when all did.
        expect(table.stderr).toContain("2 of 2 apps succeeded")
        // An app without a base URL (OAuth 2.0) leaves the column empty, and no space at the end.
        const oauth = yield* cli(["get", ORG2ORG_OAUTH], env)
        expect(oauth.stdout.split("\n")[1]).toMatch(
          new RegExp(`^${ORG2ORG_OAUTH}\\s+\\S+\\s+OAUTH2$`)
        )
        // In columns: each value starts under its heading.
        const [header, row] = table.stdout.split("\n")
        for (const [heading, value] of [
          ["STATUS", "ENABLED"],
          ["AUTH", "TOKEN"],
          ["BASE URL", "https://scim"]
        ] as const) {
          expect(row!.indexOf(value)).toBe(header!.indexOf(heading))
        }
        const json = yield* cli(["get", ZSCALER, "--json"], env)
        expect(JSON.parse(json.stdout)).toMatchObject([{ id: ZSCALER, status: "ENABLED" }])
        // Both formats printed both, one after the other, on one standard output.
        const both = yield* cli(["get", ZSCALER, "--json", "--ndjson"], env)
        expect([both.code, both.stdout]).toEqual([2, ""])
        expect(both.stderr).toContain("give one output format: --json, --ndjson or --manifest")
        const twoOf = yield* cli(["get", ZSCALER, "--json", "--manifest"], env)
        expect([twoOf.code, twoOf.stdout]).toEqual([2, ""])
        const missing = yield* cli(["get", ZSCALER, "0oanosuchapp00000001", "--ndjson"], env)
        expect(missing.code).toBe(1)
        expect(idsOf(missing.stdout)).toEqual([ZSCALER])
        expect(missing.stderr).toContain("0oanosuchapp00000001: OktaNotFoundError")
        expect(missing.stderr).toContain("request id")
        // Once: the error's message names it already.
        expect(missing.stderr.match(/request id/g)).toHaveLength(1)
        expect(missing.stderr).toContain("1 of 2 apps succeeded")
        // An id the client refuses unsent is quoted, so an empty one or a stray space shows.
        const odd = yield* cli(["get", "", ` ${ZSCALER}`], env)
        expect(odd.code).toBe(1)
        expect(odd.stderr).toContain('"": OktaInvalidInputError')
        expect(odd.stderr).toContain(`" ${ZSCALER}": OktaInvalidInputError`)
        expect(odd.stderr).toContain("must not contain whitespace; nothing was sent")
        // Every app failed: no table header alone on standard output.
        const none = yield* cli(["get", "0oanosuchapp00000001"], env)
        expect([none.code, none.stdout]).toEqual([1, ""])
        expect(none.stderr).toContain("0 of 1 app succeeded")
        for (const run of [table, json, missing, none]) {
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
        const file = join(tempDir("work-"), "apps.txt")
        writeFileSync(file, `# the Org2Org app\n${ORG2ORG}\n`)
        // Listed in the file and as an argument: one app, one call.
        const activated = yield* cli(["activate", ORG2ORG, "--from", file], env)
        expect(activated.code).toBe(0)
        expect(activated.stdout.trim()).toBe(`${ORG2ORG}: activated`)
        expect(
          (yield* sim.requests).filter((r) => r.path.endsWith("/lifecycle/activate"))
        ).toHaveLength(1)
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("ENABLED")
        const deactivated = yield* cli(["deactivate", "-"], env, `${ORG2ORG}\n`)
        expect(deactivated.code).toBe(0)
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("DISABLED")
        // "-" written before the command's options: the ids from standard input, the options read.
        const listed = yield* cli(["get", "-", "--json"], env, `${ORG2ORG}\n`)
        expect(listed.code).toBe(0)
        expect(JSON.parse(listed.stdout)).toMatchObject([{ id: ORG2ORG, status: "DISABLED" }])
        // --from - reads standard input too (it looked for a file named "-").
        const fromDash = yield* cli(["get", "--from", "-", "--json"], env, `${ORG2ORG}\n`)
        expect(fromDash.code).toBe(0)
        expect(JSON.parse(fromDash.stdout)).toMatchObject([{ id: ORG2ORG }])
        // Several on a line (`echo $IDS`, a CSV row), with a comment after them: each one read.
        const row = yield* cli(
          ["get", "--ndjson", "-"],
          env,
          `${ORG2ORG}, ${ZSCALER}\t${ZSCALER} # the two apps\r\n`
        )
        expect(row.code).toBe(0)
        expect(idsOf(row.stdout)).toEqual([ORG2ORG, ZSCALER])
        // Ids as `jq '.[].id'` prints them without -r, or a JSON list: refused unsent, saying why.
        const sent = (yield* sim.requests).length
        const pasted = yield* cli(["get", "-"], env, `"${ORG2ORG}"\n[${ZSCALER}]\n`)
        expect(pasted.code).toBe(1)
        expect(pasted.stderr).toContain(
          `"${ORG2ORG}": OktaInvalidInputError: getDefaultProvisioningConnectionForApplication: invalid appId: is in quotes (a JSON string, or jq without -r?): give the id alone; nothing was sent`
        )
        expect(pasted.stderr).toContain(
          `[${ZSCALER}]: OktaInvalidInputError: getDefaultProvisioningConnectionForApplication: invalid appId: must not contain quotes, brackets, braces, "<", ">", "," or ";" (a list or JSON pasted whole?); nothing was sent`
        )
        expect((yield* sim.requests).length).toBe(sent)
        // A command that changes apps refuses such ids together, before the configuration is
        // read: a mistyped list changes none of its apps rather than the others.
        const consoleUrl = `https://acme-admin.okta.com/admin/app/zscalerbyz/instance/${ZSCALER}/#tab-general`
        const mistyped = yield* cli(
          ["activate", ORG2ORG, "-"],
          {},
          `"${ORG2ORG}"\n${consoleUrl}\n0oa1/2\n`
        )
        expect([mistyped.code, mistyped.stderr]).toEqual([
          2,
          [
            "okta-connections: 3 are not app ids, so nothing was sent:",
            `  "${ORG2ORG}": is in quotes (a JSON string, or jq without -r?): give the id alone`,
            `  ${consoleUrl.slice(0, 59)}…: is a URL: give the app id alone (${ZSCALER}, after /instance/ in it)`,
            '  0oa1/2: must not contain "/", "\\", "?", "#" or "%"',
            ""
          ].join("\n")
        ])
        for (const command of [["activate"], ["update", "--auth-scheme", "TOKEN"]]) {
          const one = yield* cli([...command, "0oa1/2"], env)
          expect([one.code, one.stderr]).toEqual([
            2,
            'okta-connections: not an app id, so nothing was sent: 0oa1/2: must not contain "/", "\\", "?", "#" or "%"\n'
          ])
        }
        expect((yield* sim.requests).length).toBe(sent)
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("DISABLED")
        // A file that is not there: named, with why, in words; nothing sent.
        const missing = join(tempDir("work-"), "apps.txt")
        const none = yield* cli(["activate", "--from", missing], env)
        expect([none.code, none.stderr]).toEqual([
          2,
          `okta-connections: --from: cannot read ${missing} (no such file)\n`
        ])
        expect((yield* sim.requests).length).toBe(sent)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "standard input from a writer that is slow to write: ids, a manifest, a secret, a consent",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        // A pipe from a command that is still at work (`get --manifest | apply -`): the input
        // comes after the reader has started. 1.5 s is past the CLI's start-up; on a machine so
        // slow that it is not, the input is there at the first read and the run shows nothing.
        const slowly = (args: ReadonlyArray<string>, input: string) =>
          cli(args, env, input, root, 1_500)
        const manifest = `apps:\n  - id: ${ZSCALER}\n    authScheme: TOKEN\n`
        const [ids, applied, secret, consent] = yield* Effect.all(
          [
            slowly(["get", "-"], `${ZSCALER}\n`),
            slowly(["apply", "-", "--dry-run"], manifest),
            slowly(["update", ORG2ORG, "--auth-scheme", "TOKEN", "--secret-stdin"], "00slow\n"),
            slowly(["verify", "office365", OFFICE365, "--code", "-", "--state", "-"], "c\ns\n")
          ],
          { concurrency: "unbounded" }
        )
        expect([ids.code, ids.stdout]).toEqual([0, expect.stringContaining(ZSCALER)])
        expect([applied.code, applied.stdout]).toEqual([0, expect.stringContaining("1 unchanged")])
        expect([secret.code, secret.stdout]).toEqual([0, `${ORG2ORG}: updated, DISABLED\n`])
        // Read, sent, and refused by the org as the made-up code it is.
        expect([consent.code, consent.stderr]).toEqual([
          1,
          expect.stringContaining("OktaBadRequestError: verifyProvisioningConnectionForApplication")
        ])
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "standard input from a terminal: a line says what is read and how to end it",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        // `get -` typed by hand waited without a word: what it reads is said first.
        const ids = yield* inTerminal(["get", "-"], env, `${ZSCALER}\n\x04`)
        expect(ids.code).toBe(0)
        expect(ids.output).toContain(
          "okta-connections: reading app ids (one per line, or separated by spaces) from the terminal; end it with Ctrl-D\n"
        )
        expect(ids.output).toMatch(new RegExp(`^${ZSCALER} +ENABLED +TOKEN`, "m"))
        // A secret typed there is not shown, as a password prompt reads one: Enter ends it,
        // Backspace takes back a character, an arrow key is no part of it.
        const update = ["update", ORG2ORG, "--auth-scheme", "TOKEN", "--secret-stdin"]
        const prompt = "okta-connections: the secret (not shown as it is typed; Enter ends it): "
        const secret = yield* inTerminal(update, env, "00typ\x1b[Aedx\x7f\r", prompt)
        expect(secret.code).toBe(0)
        expect(secret.output).toBe(
          `${prompt}\n${ORG2ORG}: updated, DISABLED\n${ORG2ORG}: saved DISABLED, as Okta saves an update without --activate; okta-connections activate ${ORG2ORG} enables it\n`
        )
        expect((yield* sim.inspect(ORG2ORG)).connection).toMatchObject({ token: "00typed" })
        // It is asked for last: a command line or a configuration refused is said before it.
        const misused = yield* inTerminal([...update, "--rotation", "AUTO"], env, "00x\r", prompt)
        expect([misused.code, misused.output]).toEqual([
          2,
          "okta-connections: --client-id, --rotation and --admin-username go with --auth-scheme OAUTH2\n"
        ])
        const unset = yield* inTerminal(update, {}, "00x\r", prompt)
        expect(unset.code).toBe(3)
        expect(unset.output).toMatch(/^okta-connections: not set: OKTA_CLIENT_ORGURL/)
        expect(unset.output).not.toContain(prompt)
        // Ctrl-C there stops the run, as anywhere else, with nothing sent.
        const sent = (yield* sim.requests).length
        const stopped = yield* inTerminal(update, env, "00half\x03", prompt)
        expect([stopped.code, stopped.output]).toEqual([130, `${prompt}\n`])
        expect((yield* sim.requests).length).toBe(sent)
        // A pipe is no terminal: nothing more than the command's own output.
        const piped = yield* cli(["get", "-", "--json"], env, `${ZSCALER}\n`)
        expect([piped.code, piped.stderr]).toEqual([0, ""])
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
        const { kid } = JSON.parse(jwk.stdout.trim().split("\n")[0]!)
        expect(pem.stdout).toMatch(new RegExp(`^# kid ${kid}\n-----BEGIN PUBLIC KEY-----\n`))
        // A key no PEM can hold (a symmetric one) is said in its place; the others are printed.
        const { url } = yield* loopbackServer((_req, res) => {
          res.setHeader("content-type", "application/json")
          res.end(
            JSON.stringify({
              jwks: {
                keys: [{ kty: "oct", kid: "shared-1", k: "c2VjcmV0" }, JSON.parse(jwk.stdout)]
              }
            })
          )
        })
        const mixed = yield* cli(["jwks", "0oasimorg2orgoauth01", "--pem"], {
          ...env,
          OKTA_CLIENT_ORGURL: url
        })
        expect([mixed.code, mixed.stderr]).toEqual([0, ""])
        expect(mixed.stdout).toMatch(
          new RegExp(
            `^# kid shared-1\n# shared-1: not a public key PEM can hold\n# kid ${kid}\n-----BEGIN PUBLIC KEY-----\n`
          )
        )
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "exit codes: 2 for usage, 3 for configuration or credentials",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const noIds = yield* cli(["get"], env)
        expect(noIds.code).toBe(2)
        expect(noIds.stderr).toContain("give at least one app id")
        const badOption = yield* cli(["--concurrency", "many", "get", ZSCALER], env)
        expect(badOption.code).toBe(2)
        // 0 in flight would be no run at all; it was taken silently.
        const zero = yield* cli(["--concurrency", "0", "get", ZSCALER], env)
        expect(zero.code).toBe(2)
        expect(zero.stderr).toContain('--concurrency "0": takes a whole number, 1 or more')
        const noTime = yield* cli(["--timeout", "0", "get", ZSCALER], env)
        expect(noTime.code).toBe(2)
        expect(noTime.stderr).toContain(
          '--timeout "0": takes seconds (30, 0.5) or a duration (30s, 500ms, 2m), more than 0'
        )
        // A value refused names its option, and what it takes; a duration as Effect writes one
        // and a choice in another case are taken.
        for (const [args, said] of [
          [["--timeout", "5x"], '--timeout "5x": takes seconds'],
          [["--deadline", "-1"], '--deadline "-1": takes seconds'],
          [["--concurrency", "1.5"], '--concurrency "1.5": takes a whole number, 1 or more'],
          [["--transport", "curl"], '--transport "curl": takes fetch or undici']
        ] as const) {
          const refused = yield* cli([...args, "get", ZSCALER], env)
          // One line after the tool's name, as the command line's other usage errors.
          expect([refused.code, refused.stderr.split("\n")]).toEqual([
            2,
            [expect.stringContaining(`okta-connections: ${said}`), ""]
          ])
        }
        // 300 ms, not seconds: an answer held 2 s times out, and the retry is answered at once.
        yield* sim.injectFault({ _tag: "Delay", millis: 2000 }, { times: 1 })
        const durations = yield* cli(
          [
            ...["--timeout", "300ms", "--deadline", "2m", "--transport", "UNDICI"],
            "--verbose",
            "get",
            ZSCALER
          ],
          env
        )
        expect(durations.code).toBe(0)
        expect(durations.stderr).toContain("reason=timeout")
        // A global option after the command's app ids is the global option, not an app id.
        const globalAfter = yield* cli(
          ["get", ZSCALER, `--org-url=${env.OKTA_CLIENT_ORGURL}`, "--concurrency", "2", "--json"],
          { OKTA_CLIENT_TOKEN: env.OKTA_CLIENT_TOKEN }
        )
        expect([globalAfter.code, globalAfter.stderr]).toEqual([0, ""])
        expect(JSON.parse(globalAfter.stdout)).toMatchObject([{ id: ZSCALER }])
        const verboseAfter = yield* cli(
          ["activate", ZSCALER, "--org-url", env.OKTA_CLIENT_ORGURL, "--verbose"],
          { OKTA_CLIENT_TOKEN: env.OKTA_CLIENT_TOKEN }
        )
        expect([verboseAfter.code, verboseAfter.stdout]).toEqual([0, `${ZSCALER}: activated\n`])
        expect(verboseAfter.stderr).toContain("/lifecycle/activate → 204")
        // Given twice, the later one counts (@effect/cli took the command for a value).
        const twice = yield* cli(
          [
            ...["--org-url", "http://127.0.0.1:1", "--verbose", "get", ZSCALER],
            ...["--verbose", "--org-url", env.OKTA_CLIENT_ORGURL]
          ],
          { OKTA_CLIENT_TOKEN: env.OKTA_CLIENT_TOKEN }
        )
        expect([twice.code, twice.stdout]).toEqual([0, expect.stringContaining(ZSCALER)])
        // What the command line gets wrong is said first, though nothing is configured.
        for (const [args, said] of [
          [["get", ZSCALER, "--bogus"], "unknown option --bogus for get\n"],
          [["get", ZSCALER, "--jsn"], "unknown option --jsn for get (did you mean --json?)"],
          [["activate", ZSCALER, "--form", "x"], "for activate (did you mean --from?)"],
          [["get", ZSCALER, "--verbos"], "(did you mean --verbose?)"],
          [["get", ZSCALER, "--org-url"], "--org-url needs a value"],
          [["--org-url", "get", ZSCALER], "--org-url needs a value"],
          [["--org-url"], "--org-url needs a value"],
          [["deactivate", "--", ZSCALER, "--verbose"], 'for deactivate (options go before "--")'],
          // Every command, not only those @effect/cli would take the option for an app id in.
          [["jwks", ZSCALER, "--pme"], "unknown option --pme for jwks (did you mean --pem?)"],
          [["update", ZSCALER, "--base-ur", "x"], "for update (did you mean --base-url?)"],
          [["update", ZSCALER, "--file", "-", "--bogus"], "unknown option --bogus for update\n"],
          [["apply", "x.yaml", "--dryrun"], "for apply (did you mean --dry-run?)"],
          [["verify", "slack", ZSCALER, "--stat", "s"], "for verify (did you mean --state?)"],
          [["simulator", "--prot", "1"], "for simulator (did you mean --port?)"],
          [["simulator", "--org-url", "x"], "unknown option --org-url for simulator\n"],
          // An argument more than the command takes, rather than "Received unknown argument".
          [
            ["update", ZSCALER, ORG2ORG, "--file", "-"],
            `update takes <appId>: "${ORG2ORG}" is one too many; several apps are apply's work, with a manifest`
          ],
          [["jwks", ZSCALER, "--", ORG2ORG], `jwks takes <appId>: "${ORG2ORG}" is one too many\n`],
          [["verify", "google", ZSCALER, ORG2ORG], `verify takes <appName> <appId>: "${ORG2ORG}"`],
          [["simulator", "8080"], 'simulator takes no argument: "8080" is one too many'],
          // One missing, said with the command's name rather than @effect/cli's bare line.
          [["update", "--file", "-"], "update takes <appId>: <appId> is missing (update --help"],
          [["verify", "google"], "verify takes <appName> <appId>: <appId> is missing"],
          [["apply", "--dry-run"], "apply takes <manifest>: <manifest> is missing"],
          // Before the command: a word that is none, an option that is no global one.
          [
            ["gte", ZSCALER],
            'unknown command "gte" (did you mean get?); the commands: get, update,'
          ],
          [["--verbos", "get", ZSCALER], "unknown option --verbos (did you mean --verbose?)"],
          [
            ["--json", "get", ZSCALER],
            "--json goes after the command, with its own options: get … --json"
          ],
          // A value @effect/cli's own options do not take, rather than two app ids to ask for.
          [
            ["get", ZSCALER, "--log-level", "loud"],
            '--log-level "loud": takes all, trace, debug, info, warning, error, fatal or none'
          ],
          [["get", "--completions", "nope"], '--completions "nope": takes sh, bash, fish or zsh'],
          [["--completions=nope"], '--completions "nope": takes sh, bash, fish or zsh'],
          [["simulator", "--log-level"], "--log-level needs a value"],
          // No app id, or a file of them that cannot be read.
          [["get"], "give at least one app id (or --from FILE, or -)"],
          [["deactivate", "--from", join(scratch, "no-ids.txt")], "--from: cannot read"],
          // A flag's value, as @effect/cli reads one, is not an argument more.
          [["update", ZSCALER, "--activate", "true"], "give --file or --auth-scheme"],
          // A value refused names what it was given to; a choice is taken in any case.
          [
            ["update", ZSCALER, "--auth-scheme", "tokn"],
            '--auth-scheme "tokn": takes TOKEN or OAUTH2'
          ],
          [
            ["update", ZSCALER, "--auth-scheme", "token", "--rotation", "auto"],
            "go with --auth-scheme OAUTH2"
          ],
          [
            ["verify", "okta_org2org", ZSCALER, "--continue-url", "x"],
            '<appName> "okta_org2org": takes google, office365, slack, zoomus'
          ],
          [
            ["verify", "Office365", OFFICE365, "--continue-url", "x"],
            "--continue-url must be Okta's URL"
          ],
          [
            ["simulator", "--port", "70000"],
            '--port "70000": takes a whole number from 0 to 65535'
          ],
          [["get", ZSCALER, "--json", "--ndjson"], "give one output format"],
          [["update", ZSCALER], "give --file or --auth-scheme"],
          [["apply", join(scratch, "no-such.yaml")], "no-such.yaml (no such file)"],
          [["verify", "google", ZSCALER], "give --continue-url URL, or --code - and --state"]
        ] as const) {
          const unset = yield* cli(args, {})
          expect([unset.code, unset.stderr]).toEqual([2, expect.stringContaining(said)])
          // One line after the tool's name, @effect/cli's refusals of a value included.
          expect(unset.stderr).toMatch(/^okta-connections: [^\n]+\n$/)
        }
        const noToken = yield* cli(["get", ZSCALER], { OKTA_CLIENT_ORGURL: env.OKTA_CLIENT_ORGURL })
        expect(noToken.code).toBe(3)
        // The variable is named in the command line's words, not in `Config`'s.
        expect(noToken.stderr).toContain("okta-connections: not set: OKTA_CLIENT_TOKEN\n")
        expect(noToken.stderr).not.toContain("process context")
        // terraform-provider-okta's name for it, set: said on a line of its own.
        const terraform = yield* cli(["get", ZSCALER], {
          OKTA_CLIENT_ORGURL: env.OKTA_CLIENT_ORGURL,
          OKTA_API_TOKEN: "00terraform-token"
        })
        expect(terraform.stderr).toContain(
          "okta-connections: not set: OKTA_CLIENT_TOKEN\n  OKTA_API_TOKEN is set, but this client reads OKTA_CLIENT_TOKEN (the name Okta's SDKs read)\n"
        )
        expect(terraform.stderr).not.toContain("00terraform-token")
        const serviceApp = yield* cli(["get", ZSCALER], {
          OKTA_CLIENT_ORGURL: env.OKTA_CLIENT_ORGURL,
          OKTA_CLIENT_CLIENTID: "0oaserviceapp",
          OKTA_CLIENT_PRIVATEKEY: "/path/to/key.pem"
        })
        expect(serviceApp.stderr).toContain(
          "\n  OKTA_CLIENT_CLIENTID and OKTA_CLIENT_PRIVATEKEY are set: for a service app's key, set OKTA_CLIENT_AUTHORIZATIONMODE=PrivateKey\n"
        )
        const nothing = yield* cli(["get", ZSCALER], {})
        expect(nothing.code).toBe(3)
        expect(nothing.stderr).toContain(
          "not set: OKTA_CLIENT_ORGURL (or --org-url), OKTA_CLIENT_TOKEN"
        )
        const wrongToken = yield* cli(["get", ZSCALER], {
          ...env,
          OKTA_CLIENT_TOKEN: "00wrong-token"
        })
        expect(wrongToken.code).toBe(3)
        expect(wrongToken.stderr).toContain("OktaUnauthorizedError")
        expect(wrongToken.stdout + wrongToken.stderr).not.toContain("00wrong-token")
        // An access token where the API token goes: refused before anything is sent.
        const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIwMHUxIn0.c2lnbmF0dXJl"
        const bearer = yield* cli(["get", ZSCALER], { ...env, OKTA_CLIENT_TOKEN: jwt })
        expect(bearer.code).toBe(3)
        expect(bearer.stderr).toContain(
          "apiToken is an OAuth 2.0 access token (a JWT), which Okta takes as Bearer: give it as accessToken, or an API token (00…) here (OKTA_CLIENT_TOKEN)"
        )
        expect(bearer.stdout + bearer.stderr).not.toContain(jwt)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "reads okta.yaml as Okta's SDKs do: ./okta.yaml over ~/.okta/okta.yaml, a variable over both",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        const home = tempDir("yaml-")
        const work = tempDir("cwd-")
        mkdirSync(join(home, ".okta"))
        const yaml = (client: string) => `okta:\n  client:\n${client}`
        // What `okta login` leaves: the org and an API token.
        writeFileSync(
          join(home, ".okta", "okta.yaml"),
          yaml(`    orgUrl: "${env.OKTA_CLIENT_ORGURL}"\n    token: "${TOKEN}"\n`)
        )
        const fromHome = yield* cli(["get", ZSCALER, "--json"], { HOME: home }, undefined, work)
        expect(fromHome.code).toBe(0)
        expect(JSON.parse(fromHome.stdout)).toMatchObject([{ id: ZSCALER, status: "ENABLED" }])
        // The working directory's file wins over the home's, key by key; a variable over both.
        writeFileSync(join(work, "okta.yaml"), yaml(`    token: "00from-cwd-yaml"\n`))
        const fromCwd = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect(fromCwd.code).toBe(3)
        expect(fromCwd.stderr).toContain("OktaUnauthorizedError")
        const fromEnv = yield* cli(
          ["get", ZSCALER],
          { HOME: home, OKTA_CLIENT_TOKEN: TOKEN },
          undefined,
          work
        )
        expect([fromEnv.code, fromEnv.stderr]).toEqual([0, ""])
        // A file whose client section is empty (YAML's null) gives nothing, and is no error.
        writeFileSync(join(work, "okta.yaml"), "okta:\n  client:\n")
        const empty = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect([empty.code, empty.stderr]).toEqual([0, ""])
        // A file that is not YAML is named with its line, never quoted: it holds a token.
        writeFileSync(join(work, "okta.yaml"), yaml(`    token: "00secret-in-yaml\n  x: [\n`))
        const broken = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect(broken.code).toBe(3)
        expect(broken.stderr).toContain(`${join(work, "okta.yaml")}: cannot read it as YAML`)
        expect(broken.stdout + broken.stderr).not.toContain("00secret-in-yaml")
        // What neither the variables nor the files give is named once.
        writeFileSync(join(work, "okta.yaml"), yaml(`    orgUrl: "${env.OKTA_CLIENT_ORGURL}"\n`))
        const noToken = yield* cli(["get", ZSCALER], {}, undefined, work)
        expect(noToken.code).toBe(3)
        expect(noToken.stderr).toContain("okta-connections: not set: OKTA_CLIENT_TOKEN\n")
        expect(noToken.stderr).not.toContain("nothing under okta.client")
        // Keys written at the top level set nothing: the file is named, not left to be doubted.
        writeFileSync(join(work, "okta.yaml"), `orgUrl: "${env.OKTA_CLIENT_ORGURL}"\n`)
        const flatKeys = yield* cli(["get", ZSCALER], {}, undefined, work)
        expect(flatKeys.code).toBe(3)
        expect(flatKeys.stderr).toContain(
          `not set: OKTA_CLIENT_ORGURL (or --org-url), OKTA_CLIENT_TOKEN\n  ${join(work, "okta.yaml")} has nothing under okta.client: its keys go under okta:, then client:, indented.\n`
        )
        // The SDKs' retry settings are read too; a bad value is named where it was set.
        const withRetry = (settings: string) =>
          writeFileSync(
            join(work, "okta.yaml"),
            yaml(`    orgUrl: "${env.OKTA_CLIENT_ORGURL}"\n    token: "${TOKEN}"\n${settings}`)
          )
        withRetry(`    requestTimeout: 30\n    rateLimit:\n      maxRetries: 1\n`)
        expect((yield* cli(["get", ZSCALER], {}, undefined, work)).code).toBe(0)
        withRetry(`    requestTimeout: soon\n`)
        const badTimeout = yield* cli(["get", ZSCALER], {}, undefined, work)
        expect(badTimeout.code).toBe(3)
        const file = join(work, "okta.yaml")
        expect(badTimeout.stderr).toContain(
          `not valid: okta.client.requestTimeout in ${file}: must be a whole number, 0 or more, not "soon"`
        )
        expect(badTimeout.stderr).not.toContain("not set")
        withRetry(`    rateLimit:\n      maxRetries: -1\n`)
        const badRetries = yield* cli(["get", ZSCALER], {}, undefined, work)
        expect(badRetries.code).toBe(3)
        expect(badRetries.stderr).toContain(
          `okta.client.rateLimit.maxRetries in ${file}: must be a whole number, 0 or more, not "-1"`
        )
        // The same value from a variable is named by the variable, which wins over the file.
        const fromVariable = yield* cli(
          ["get", ZSCALER],
          { OKTA_CLIENT_RATELIMIT_MAXRETRIES: "-2" },
          undefined,
          work
        )
        expect(fromVariable.stderr).toContain(
          'OKTA_CLIENT_RATELIMIT_MAXRETRIES: must be a whole number, 0 or more, not "-2"'
        )
        // Neither a number nor a string: named, as the SDKs would not take it either.
        withRetry(`    rateLimit:\n      maxRetries: [1]\n`)
        const listed = yield* cli(["get", ZSCALER], {}, undefined, work)
        expect([listed.code, listed.stderr]).toEqual([
          3,
          `okta-connections: ${file}: okta.client.rateLimit.maxRetries must be a number\n`
        ])
        // A number where the mapping goes would set nothing (the default 4 retries): named instead.
        withRetry(`    rateLimit: 4\n`)
        const flat = yield* cli(["get", ZSCALER], {}, undefined, work)
        expect([flat.code, flat.stderr]).toEqual([
          3,
          `okta-connections: ${file}: okta.client.rateLimit must be a mapping, such as rateLimit: { maxRetries: 4 }\n`
        ])
        // Likewise what the client refuses of a value, by the key of the file that gave it.
        writeFileSync(file, yaml(`    orgUrl: "ftp://acme.okta.com"\n    token: "${TOKEN}"\n`))
        const badUrl = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect(badUrl.code).toBe(3)
        expect(badUrl.stderr).toContain(
          `orgUrl must use https:// (got ftp://) (okta.client.orgUrl in ${file})`
        )
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "help: plain text when standard output is not a terminal (@effect/cli colours it otherwise)",
    () =>
      Effect.gen(function* () {
        const help = yield* cli(["--help"], {})
        expect(help.code).toBe(0)
        expect(help.stdout).toContain("USAGE")
        expect(help.stdout).toContain("--concurrency")
        expect(help.stdout).not.toContain("\u001b[")
        expect(help.stdout).toContain(
          "--org-url text\n\n  the org URL (default OKTA_CLIENT_ORGURL, or orgUrl in okta.yaml)\n"
        )
        expect(help.stdout).not.toContain("A user-defined piece of text")
        // The commands, each with its arguments and its description under it: no line as wide as
        // the longest usage and a description after it.
        const [, commands = ""] = help.stdout.split(/^COMMANDS$/m)
        expect(commands).toContain(
          "\n  - get <appId>...\n    the default provisioning connection of each app\n"
        )
        expect(commands).toContain("\n  - verify <appName> <appId>\n")
        expect(Math.max(...commands.split("\n").map((line) => line.length))).toBeLessThan(80)
        expect(help.stdout).toContain(
          "\n$ okta-connections [--org-url text] [--concurrency integer] [--timeout seconds] [--deadline seconds] [--transport fetch | undici] [--verbose] <command> [its options]\n"
        )
        // `help`, and `help <command>`, as git and npm take them.
        expect(yield* cli(["help"], {})).toEqual(help)
        expect(yield* cli(["help", "apply"], {})).toEqual(yield* cli(["apply", "--help"], {}))
        const helpNope = yield* cli(["help", "nope"], {})
        expect([helpNope.code, helpNope.stderr]).toEqual([
          2,
          expect.stringContaining('unknown command "nope"')
        ])
        // The version alone on its line, as scripts read it: no blank line after it.
        const version = yield* cli(["--version"], {})
        expect([version.code, version.stdout, version.stderr]).toEqual([0, `${VERSION}\n`, ""])
        // Without what says nothing here: a second heading of the name, "This setting is
        // optional." under every option (each one is), the choices again under a usage that
        // lists them, and "zero or more" app ids, where one at least is needed.
        expect(help.stdout.startsWith(`okta-connections ${VERSION}\n\nUSAGE\n`)).toBe(true)
        // In colour, at a terminal, too.
        const coloured = (yield* inTerminal(["--help"], {}, "")).output
        expect(coloured).toContain("\u001b[")
        expect(stripVTControlCharacters(coloured)).toMatch(
          new RegExp(`^okta-connections ${VERSION.replaceAll(".", "\\.")}\n\nUSAGE\n`)
        )
        expect(coloured).not.toContain("optional.")
        const get = yield* cli(["get", "--help"], {})
        for (const noise of ["optional.", "One of the following", "zero or more"]) {
          expect([noise, help.stdout.includes(noise) || get.stdout.includes(noise)]).toEqual([
            noise,
            false
          ])
        }
        expect(help.stdout).toContain(
          "\n--transport fetch | undici\n\n  fetch (the default), or undici; with HTTPS_PROXY or HTTP_PROXY set, undici through that proxy\n\n--"
        )
        const sub = yield* cli(["apply", "--help"], {})
        expect(sub.stdout).toContain("--dry-run")
        expect(sub.stdout).not.toContain("\u001b[")
        // A completion script for a shell @effect/cli writes one for, before or after a command.
        for (const args of [
          ["--completions", "bash"],
          ["get", "--completions=zsh"]
        ]) {
          const script = yield* cli(args, {})
          expect([script.code, script.stderr]).toEqual([0, ""])
          expect(script.stdout).toContain("okta-connections")
        }
        // Every argument says what it is, not only "A user-defined piece of text".
        const verify = yield* cli(["verify", "--help"], {})
        expect(verify.stdout).toContain("<appName>")
        expect(verify.stdout).toContain("the app's id in Okta")
        // And every option of every command, in our words: not @effect/cli's "A user-defined piece
        // of text." that heads a text option's help, which tells nothing of what it takes.
        const builtIn = ["--completions", "--log-level", "(-h, --help)", "--wizard", "--version"]
        for (const command of COMMAND_NAMES) {
          // With no argument given: asking for help is no missing argument.
          const { code, stdout } = yield* cli([command, "--help"], {})
          expect([code, stdout]).toEqual([0, expect.stringContaining("\nOPTIONS\n")])
          expect(stdout).not.toContain("A user-defined piece of text")
          expect(stdout).not.toMatch(/A true or false value|A file\./)
          // Its usage as a shell runs it, not `$ get …`.
          expect(stdout).toContain(`\nUSAGE\n\n$ okta-connections ${command} `)
          const [, options = ""] = stdout.split(/^OPTIONS$/m)
          const blocks = options.split(/^(?=\S)/m).filter((block) => block.trim() !== "")
          const undescribed = blocks
            .filter((block) => !builtIn.some((name) => block.startsWith(name)))
            .filter((block) => !/^ {2}[a-z…]/m.test(block))
            .map((block) => `${command} ${block.split("\n")[0]}`)
          expect(undescribed).toEqual([])
        }
      }),
    30_000
  )

  it.live(
    "simulator: its first line for scripts; an option or a port it cannot take, exit 2",
    () =>
      Effect.gen(function* () {
        const child = spawnSimulator(["--token", "sim-token"])
        const info = JSON.parse(yield* firstLine(child)) as { url: string; token: string }
        expect(info.token).toBe("sim-token")
        const got = yield* cli(["get", ZSCALER, "--json"], {
          OKTA_CLIENT_ORGURL: info.url,
          OKTA_CLIENT_TOKEN: "sim-token"
        })
        expect(got.code).toBe(0)
        child.kill("SIGINT")
        const badPort = yield* cli(["simulator", "--port", "99999"], {})
        expect(badPort.code).toBe(2)
        expect(badPort.stderr).toContain('--port "99999": takes a whole number from 0 to 65535')
        // A window of 0 s or a limit of 0 admits nothing: refused.
        for (const flag of ["--window-seconds", "--rate-limit", "--concurrency-limit"]) {
          const zero = yield* cli(["simulator", flag, "0"], {})
          expect(zero.code).toBe(2)
          expect(zero.stderr).toContain(`${flag} "0": takes a whole number, 1 or more`)
        }
        // A latency of 0 is the default; less is refused.
        const negative = yield* cli(["simulator", "--latency-ms", "-1"], {})
        expect(negative.code).toBe(2)
        expect(negative.stderr).toContain('--latency-ms "-1": takes a whole number, 0 or more')
        // A port in use: one line, no stack trace, exit 2, as for any option to mend.
        const { port } = yield* serve().pipe(Effect.provide(OktaSimulator.layer()))
        const inUse = yield* cli(["simulator", "--port", String(port)], {})
        expect([inUse.code, inUse.stdout, inUse.stderr]).toEqual([
          2,
          "",
          expect.stringMatching(
            /^okta-connections: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE[^\n]*\n$/
          )
        ])
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "simulator: its options reach the org it serves; each request is logged, a consent's code never",
    () =>
      Effect.gen(function* () {
        // A port that was free a moment ago (listened on, then closed).
        const { url: free, close } = yield* loopbackServer(() => {})
        close()
        const port = Number(new URL(free).port)
        const { printed } = yield* watchedSimulator([
          ...["--port", String(port), "--token", "sim-token", "--rate-limit", "7"],
          ...["--window-seconds", "30", "--concurrency-limit", "1", "--latency-ms", "1000"],
          ...["--batch-apps", "2", "--content-length"]
        ])
        const info = JSON.parse((yield* printed("\n")).split("\n")[0]!) as {
          readonly url: string
          readonly apps: ReadonlyArray<{ readonly id: string }>
        }
        expect(info.url).toBe(`http://127.0.0.1:${port}`)
        expect(info.apps.map((app) => app.id)).toEqual(
          expect.arrayContaining(["0oasimbatch000000000", "0oasimbatch000000001"])
        )
        const banner = yield* printed("  try: curl")
        expect(banner).toContain("  token: SSWS sim-token\n")
        expect(banner).toContain("  rate limit: 7 per 30 s, 1 in flight\n")
        expect(banner).toContain("  latency: 1000 ms a request\n")
        // Two requests at once, each held a second: the one that finds the only slot taken is
        // refused at once with Okta's concurrency 429 (Limit 0), as neither option alone shows.
        const get = () =>
          fetch(`${info.url}/api/v1/apps/0oasimbatch000000001/connections/default`, {
            headers: { authorization: "SSWS sim-token" }
          })
        const [response, refused] = yield* Effect.promise(() =>
          Promise.all([get(), get()]).then(([first, second]): [Response, Response] =>
            first.status === 200 ? [first, second] : [second, first]
          )
        )
        expect(response.status).toBe(200)
        expect(refused.status).toBe(429)
        expect(refused.headers.get("x-rate-limit-limit")).toBe("0")
        expect(response.headers.get("x-rate-limit-limit")).toBe("7")
        const reset = Number(response.headers.get("x-rate-limit-reset")) * 1000 - Date.now()
        expect(reset).toBeLessThanOrEqual(31_000)
        expect(response.headers.get("content-length")).toBe(
          String(Buffer.byteLength(yield* Effect.promise(() => response.text())))
        )
        yield* printed("/api/v1/apps/0oasimbatch000000001/connections/default → 200")
        yield* printed("/api/v1/apps/0oasimbatch000000001/connections/default → 429")
        // A consent's callback: its code and state are one-time secrets, not logged; any other
        // value is logged encoded, so that a newline in it cannot start a line of its own.
        yield* Effect.promise(() =>
          fetch(
            `${info.url}/api/v1/apps/google/0oa1/oauth2/callback?code=c0de-s3cret&state=st4te&note=a%0Ab`,
            {
              method: "POST",
              headers: { authorization: "SSWS sim-token" }
            }
          ).then((r) => r.text())
        )
        const logged = yield* printed("/oauth2/callback?")
        expect(logged).toContain("/oauth2/callback?code=…&state=…&note=a%0Ab →")
        expect(logged).not.toContain("c0de-s3cret")
        // An empty --token is no token: a random one is made, as when none is given.
        const empty = spawnSimulator(["--token", ""])
        yield* Effect.addFinalizer(() => Effect.sync(() => empty.kill("SIGINT")))
        const line = yield* firstLine(empty)
        expect((JSON.parse(line) as { readonly token: string }).token).toMatch(/^00sim\S{24}$/)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "simulator --oauth-client: the CLI's PrivateKey mode gets its token there; no key is printed",
    () =>
      Effect.gen(function* () {
        const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
        const pem = String(rsa.privateKey.export({ type: "pkcs8", format: "pem" }))
        const keyFile = join(tempDir("key-"), "service-app.pem")
        writeFileSync(keyFile, pem)
        const { printed, stdout } = yield* watchedSimulator([
          "--oauth-client",
          `0oaservice0000000001=${keyFile}`
        ])
        const banner = yield* printed("  try: curl")
        expect(banner).toContain(
          "  OAuth 2.0 service app: 0oaservice0000000001 (token endpoint /oauth2/v1/token)\n"
        )
        const { url, oauthClients } = JSON.parse(banner.split("\n")[0]!) as {
          readonly url: string
          readonly oauthClients: ReadonlyArray<string>
        }
        // For scripts: the service apps' ids, never their keys.
        expect(oauthClients).toEqual(["0oaservice0000000001"])
        const got = yield* cli(
          ["get", ZSCALER, "--json"],
          serviceAppEnv(url, "0oaservice0000000001", keyFile)
        )
        expect(got.stderr).toBe("")
        expect(JSON.parse(got.stdout)).toMatchObject([{ id: ZSCALER, status: "ENABLED" }])
        const logged = yield* printed(`GET /api/v1/apps/${ZSCALER}/connections/default → 200`)
        expect(logged).toContain("POST /oauth2/v1/token → 200")
        // Another key than the registered one: the token endpoint refuses its assertion.
        const other = generateKeyPairSync("rsa", { modulusLength: 2048 })
        const otherFile = join(tempDir("key-"), "other.pem")
        writeFileSync(otherFile, String(other.privateKey.export({ type: "pkcs8", format: "pem" })))
        const refused = yield* cli(
          ["get", ZSCALER],
          serviceAppEnv(url, "0oaservice0000000001", otherFile)
        )
        // Exit 3: the credentials are wrong, not one app's call.
        expect(refused.code).toBe(3)
        expect(refused.stderr).toContain("invalid_client")
        // No piece of the key file (32 characters of it) in what the simulator printed.
        const body = pem.split("\n").slice(1, -2).join("")
        for (let at = 0; at + 32 <= body.length; at += 32) {
          expect(stdout()).not.toContain(body.slice(at, at + 32))
        }
        // A file that holds no key: refused before anything listens.
        const bad = yield* cli(["simulator", "--oauth-client", `svc=${keyFile}.missing`], {})
        expect(bad.code).toBe(2)
        expect(bad.stderr).toContain(`cannot read ${keyFile}.missing (no such file)`)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "simulator --fault: armed before the first request, each on its requests, retried through by get",
    () =>
      Effect.gen(function* () {
        const { printed } = yield* watchedSimulator([
          ...["--token", "sim-token", "--fault", "503:html,times=2"],
          ...["--fault", "504,retry-after=0,method=post,path=/lifecycle/activate"]
        ])
        const banner = yield* printed("  try: curl")
        expect(banner).toContain(
          "  fault armed: 503:html,times=2\n  fault armed: 504,retry-after=0,method=post,path=/lifecycle/activate\n"
        )
        const { url } = JSON.parse(banner.split("\n")[0]!) as { readonly url: string }
        const env = { OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: "sim-token" }
        // The POST fault is not the GET's: only the two 503s stand between get and its answer.
        const got = yield* cli(["--verbose", "get", ZSCALER, "--json"], env)
        expect(got.code).toBe(0)
        expect(JSON.parse(got.stdout)).toMatchObject([{ id: ZSCALER, authScheme: "TOKEN" }])
        // --verbose says each retry, and nothing of the attempts' own fibers.
        for (const attempt of [1, 2]) {
          expect(got.stderr).toContain(
            `okta: Okta call retried reason=server_error attempt=${attempt} `
          )
        }
        expect(got.stderr).not.toContain("unhandled")
        const path = `/api/v1/apps/${ZSCALER}/connections/default`
        const logged = yield* printed(`${path} → 200`)
        expect(
          logged.match(new RegExp(`GET ${path} → 503 \\(ServerError fault\\)\n`, "g"))
        ).toHaveLength(2)
        expect(logged).toContain(`GET ${path} → 200\n`)
        const activate = yield* Effect.promise(() =>
          fetch(`${url}${path}/lifecycle/activate`, {
            method: "POST",
            headers: { authorization: "SSWS sim-token" }
          })
        )
        expect(activate.status).toBe(504)
        expect(activate.headers.get("retry-after")).toBe("0")
        // A spec it cannot arm: refused before anything listens, with the reason.
        const bad = yield* cli(["simulator", "--fault", "503:xml"], {})
        expect(bad.code).toBe(2)
        expect(bad.stderr).toContain(
          `--fault "503:xml": a 503's body is json, html, gateway or empty, not "xml"`
        )
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "apply: a plan, --dry-run changes nothing, applying converges, a second apply plans no change",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const manifest = manifestOf([
          "apps:",
          `  - id: ${ZSCALER}`,
          "    authScheme: TOKEN",
          "    baseUrl: https://scim.example.com/v2",
          "    token: ${env:ZSCALER_TOKEN}",
          "    status: ENABLED",
          `  - id: ${ORG2ORG}`,
          "    authScheme: TOKEN",
          "    status: ENABLED",
          "  - id: 0oasimorg2orgoauth01",
          "    authScheme: OAUTH2",
          "    rotationMode: AUTO",
          "    status: DISABLED"
        ])
        const withSecret = { ...env, ZSCALER_TOKEN: "00zscaler-write-only-secret" }
        const plan = yield* cli(["apply", manifest, "--dry-run"], withSecret)
        expect(plan.code).toBe(0)
        expect(plan.stdout).toContain(
          `${ZSCALER}  baseUrl https://scim.zscalerbeta.net/1234567/890/scim → https://scim.example.com/v2; token (write-only) will be sent`
        )
        expect(plan.stdout).toContain(`${ORG2ORG}  activate (DISABLED → ENABLED)`)
        expect(plan.stdout).toContain(
          "Plan: 1 to update, 1 to activate, 1 to deactivate, 0 unchanged"
        )
        expect((yield* sim.requests).every((r) => r.method === "GET")).toBe(true)
        // The manifest from standard input ("-"), its options after it.
        const piped = yield* cli(
          ["apply", "-", "--dry-run"],
          withSecret,
          readFileSync(manifest, "utf8")
        )
        expect(piped.code).toBe(0)
        expect(piped.stdout).toBe(plan.stdout)
        // A drift check: --detailed-exitcode makes a plan with changes exit 4.
        const drift = yield* cli(
          ["apply", manifest, "--dry-run", "--detailed-exitcode"],
          withSecret
        )
        expect(drift.code).toBe(4)
        expect(drift.stdout).toBe(plan.stdout)
        const misplaced = yield* cli(["apply", manifest, "--detailed-exitcode"], withSecret)
        expect(misplaced.code).toBe(2)
        expect(misplaced.stderr).toContain("--detailed-exitcode goes with --dry-run")
        expect((yield* sim.requests).every((r) => r.method === "GET")).toBe(true)

        const applied = yield* cli(["apply", manifest], withSecret)
        expect(applied.code).toBe(0)
        expect(applied.stdout).toContain(`${ZSCALER}: applied`)
        expect((yield* sim.inspect(ZSCALER)).connection).toMatchObject({
          baseUrl: "https://scim.example.com/v2",
          token: "00zscaler-write-only-secret",
          status: "ENABLED"
        })
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("ENABLED")
        expect((yield* sim.inspect("0oasimorg2orgoauth01")).connection?.status).toBe("DISABLED")

        const sentBeforeAgain = (yield* sim.requests).length
        const again = yield* cli(["apply", manifest], withSecret)
        expect(again.stdout).toContain(
          "Plan: 0 to update, 0 to activate, 0 to deactivate, 3 unchanged"
        )
        // The token is not sent again, and the plan says so: a first apply of one looks the same.
        expect(again.stdout).toContain(
          `${ZSCALER}  no change (token not sent: Okta never returns it, so no plan can tell a change; --resend-secrets sends it)\n`
        )
        // Nothing to change is nothing applied: no write, no app said to be applied.
        expect(again.stdout).not.toContain(": applied")
        const readsAgain = (yield* sim.requests).slice(sentBeforeAgain)
        expect(readsAgain.map((r) => r.method)).toEqual(["GET", "GET", "GET"])
        const noDrift = yield* cli(
          ["apply", manifest, "--dry-run", "--detailed-exitcode"],
          withSecret
        )
        expect(noDrift.code).toBe(0)
        const resend = yield* cli(["apply", manifest, "--resend-secrets", "--dry-run"], withSecret)
        expect(resend.stdout).toContain(`${ZSCALER}  token (write-only) will be sent`)
        for (const run of [plan, drift, applied, again, noDrift, resend]) {
          expect(run.stdout + run.stderr).not.toContain("00zscaler-write-only-secret")
        }
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "apply: activating an app Okta offers a consent link for says to consent first; an update Okta answers with one says where",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const google = "0oasimgoogle00000001"
        const activation = manifestOf(["apps:", `  - id: ${google}`, "    status: ENABLED"])
        const plan = yield* cli(["apply", activation, "--dry-run"], env)
        expect(plan.stdout).toContain(
          `${google}  activate (DISABLED → ENABLED); Okta offers a consent link for it: if its OAuth 2.0 consent is still to be given, give it first (okta-connections get ${google} prints the link)\n`
        )
        // New Office 365 admin settings: Okta answers DISABLED, with the link to consent at.
        const settings = manifestOf([
          "apps:",
          `  - id: ${OFFICE365}`,
          "    authScheme: OAUTH2",
          "    adminUsername: admin@example.com",
          "    adminPassword: ${env:O365_PASSWORD}",
          "    status: DISABLED"
        ])
        const withPassword = { ...env, O365_PASSWORD: "o365-write-only-secret" }
        const applied = yield* cli(["apply", settings, "--resend-secrets"], withPassword)
        expect([applied.code, applied.stdout]).toEqual([
          0,
          expect.stringContaining(`${OFFICE365}: applied\n`)
        ])
        expect((yield* sim.inspect(OFFICE365)).connection).toMatchObject({
          status: "DISABLED",
          adminUsername: "admin@example.com"
        })
        expect(applied.stderr).toMatch(
          new RegExp(
            `^${OFFICE365}: Okta answered the update with a consent link: if its OAuth 2\\.0 consent is still to be given, consent in a browser at http://127\\.0\\.0\\.1:\\d+/simulator/consent/office365/${OFFICE365}\\?state=[\\w-]+, then verify it \\(okta-connections verify, with the URL Okta continues to\\); the manifest keeps it DISABLED$`,
            "m"
          )
        )
        expect(applied.stdout + applied.stderr).not.toContain("o365-write-only-secret")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "get --manifest: the connections as a manifest, from which apply plans no change",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const bookmark = "0oasimbookmark000001"
        // An Org2Org OAuth app with a client id and AUTO rotation, enabled.
        const updated = yield* cli(
          [
            "update",
            ORG2ORG_OAUTH,
            "--auth-scheme",
            "OAUTH2",
            "--client-id",
            "0oaclientid000000001",
            "--rotation",
            "AUTO",
            "--activate"
          ],
          env
        )
        expect(updated.code).toBe(0)
        const ids = [ZSCALER, ORG2ORG, ORG2ORG_OAUTH, OFFICE365, bookmark]
        const exported = yield* cli(["get", ...ids, "--manifest"], env)
        expect(exported.code).toBe(0)
        const lines = exported.stdout.split("\n")
        // The bookmark app has no provisioning connection a manifest can hold: said, not listed.
        expect(lines.filter((line) => line.startsWith("#")).join("\n")).toContain(
          `# Left out: ${bookmark}, which shows no connection a manifest can hold (authScheme UNKNOWN, status UNKNOWN: an app without provisioning?).`
        )
        const text = lines.filter((line) => !line.startsWith("#")).join("\n")
        expect(text).toBe(
          [
            "apps:",
            `  - id: ${ZSCALER}`,
            "    authScheme: TOKEN",
            "    baseUrl: https://scim.zscalerbeta.net/1234567/890/scim",
            "    status: ENABLED",
            `  - id: ${ORG2ORG}`,
            "    authScheme: TOKEN",
            "    baseUrl: https://targetorg.okta.com",
            "    status: DISABLED",
            `  - id: ${ORG2ORG_OAUTH}`,
            "    authScheme: OAUTH2",
            "    clientId: 0oaclientid000000001",
            "    rotationMode: AUTO",
            "    status: ENABLED",
            `  - id: ${OFFICE365}`,
            "    authScheme: OAUTH2",
            "    status: DISABLED",
            ""
          ].join("\n")
        )
        const manifest = manifestOf([exported.stdout])
        const sent = (yield* sim.requests).length
        const plan = yield* cli(["apply", manifest, "--dry-run", "--detailed-exitcode"], env)
        expect([plan.code, plan.stdout.trim().split("\n").at(-1)]).toEqual([
          0,
          "Plan: 0 to update, 0 to activate, 0 to deactivate, 4 unchanged"
        ])
        // Reads only.
        expect(new Set((yield* sim.requests).slice(sent).map((r) => r.method))).toEqual(
          new Set(["GET"])
        )
        // An app that could not be read is named in the file, not only on standard error.
        const forbidden = "0oasimforbidden00001"
        const partial = yield* cli(["get", ZSCALER, forbidden, "--manifest"], env)
        expect(partial.code).toBe(1)
        expect(partial.stderr).toContain(`${forbidden}: OktaForbiddenError`)
        expect(partial.stdout).toContain(
          `\n# Left out: ${forbidden}, which could not be read (OktaForbiddenError); apply leaves an app the manifest does not name as it is.\napps:\n  - id: ${ZSCALER}\n`
        )
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "apply: an unknown field, an id no app has, an unresolved secret or a duplicate app is refused before any call",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const dir = tempDir("work-")
        const cases = [
          [
            "apps:\n  - id: a\n    authScheme: TOKEN\n    tokn: x\n",
            "apps[0].tokn: is not allowed"
          ],
          // The id's rule, as the operations say it: the Admin Console URL, pasted whole.
          [
            "apps:\n  - id: https://acme-admin.okta.com/admin/app/zscalerbyz/instance/0oa1/\n    authScheme: TOKEN\n",
            "apps[0].id: is a URL: give the app id alone"
          ],
          [
            "apps:\n  - id: a\n    authScheme: TOKEN\n  - id: 0oa1 0oa2\n    authScheme: OAUTH2\n",
            "apps[1].id: must not contain whitespace"
          ],
          [
            "apps:\n  - id: a\n    authScheme: TOKEN\n    token: ${env:NOT_SET_ANYWHERE}\n",
            "NOT_SET_ANYWHERE is not set"
          ],
          [
            "apps:\n  - id: a\n    authScheme: TOKEN\n    token: 00literal-secret\n",
            "must be a reference"
          ],
          [
            "apps:\n  - id: a\n    authScheme: TOKEN\n  - id: a\n    authScheme: TOKEN\n",
            "appears twice"
          ],
          // Not YAML: where, never the line, which the parser's own message quotes.
          [
            "apps:\n  - id: a\n    token: 00literal-secret [\n  x: ]\n",
            "is not YAML or JSON (line"
          ],
          // Its root said as such, not as an issue at an empty path.
          ["", "is empty; a manifest is a mapping with an apps list"],
          [
            "- id: a\n  authScheme: TOKEN\n",
            "is a list; a manifest is a mapping with an apps list"
          ],
          ["just text\n", "is not a mapping; a manifest is a mapping"],
          // Office 365's settings are taken whole: a username alone was dropped without a word.
          [
            "apps:\n  - id: a\n    authScheme: OAUTH2\n    adminUsername: admin@contoso.com\n",
            "adminUsername and adminPassword go together"
          ],
          // A secret file that is empty would blank the app's secret in Okta.
          [
            "apps:\n  - id: a\n    authScheme: TOKEN\n    token: ${file:empty.txt}\n",
            "empty.txt is empty"
          ]
        ] as const
        writeFileSync(join(dir, "empty.txt"), "")
        for (const [i, [text, message]] of cases.entries()) {
          const file = join(dir, `bad-${i}.yaml`)
          writeFileSync(file, text)
          const run = yield* cli(["apply", file], env)
          expect(run.code).toBe(2)
          expect(run.stderr).toContain(message)
          // Each names the manifest it is in.
          expect(run.stderr).toMatch(new RegExp(`^okta-connections: ${file}[: ]`))
          expect(run.stdout + run.stderr).not.toContain("00literal-secret")
        }
        expect(yield* sim.requests).toEqual([])
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "apply: an app that cannot be read stops the apply, which says so; a dry run says what its plan leaves out",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const manifest = manifestOf([
          "apps:",
          "  - id: 0oasimforbidden00001",
          "    authScheme: TOKEN",
          `  - id: ${ORG2ORG}`,
          "    authScheme: TOKEN",
          "    status: ENABLED"
        ])
        const dryRun = yield* cli(["apply", manifest, "--dry-run", "--detailed-exitcode"], env)
        expect(dryRun.code).toBe(1)
        expect(dryRun.stdout).toContain(`${ORG2ORG}  activate (DISABLED → ENABLED)`)
        expect(dryRun.stderr).toContain(
          "the plan leaves out 1 of 2 apps, which could not be read (below)\n0oasimforbidden00001: OktaForbiddenError"
        )
        expect(dryRun.stderr).toContain("1 of 2 apps read")
        const run = yield* cli(["apply", manifest], env)
        expect(run.code).toBe(1)
        expect(run.stdout).toContain("Plan: 0 to update, 1 to activate, 0 to deactivate")
        expect(run.stderr).toContain("nothing applied: 1 of 2 apps could not be read (below)")
        expect(run.stderr).toContain("1 of 2 apps read")
        expect(run.stdout).not.toContain("applied")
        expect((yield* sim.requests).every((r) => r.method === "GET")).toBe(true)
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("DISABLED")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "apply: an app whose change fails is said to have failed, never to be applied; the others are applied",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const manifest = manifestOf([
          "apps:",
          `  - id: ${ZSCALER}`,
          "    authScheme: TOKEN",
          "    status: DISABLED",
          `  - id: ${ORG2ORG}`,
          "    authScheme: TOKEN",
          "    status: ENABLED"
        ])
        // Org2Org's activation is answered with a redirect: not followed, not retried, a failure.
        yield* sim.injectFault({ _tag: "Redirect" }, { times: 1, method: "POST", path: ORG2ORG })
        const run = yield* cli(["apply", manifest], env)
        expect(run.code).toBe(1)
        expect(run.stdout).toContain(`${ZSCALER}: applied`)
        expect(run.stdout).not.toContain(`${ORG2ORG}: applied`)
        expect(run.stderr).toContain(`${ORG2ORG}: OktaUnexpectedStatusError`)
        expect((yield* sim.inspect(ZSCALER)).connection?.status).toBe("DISABLED")
        expect((yield* sim.inspect(ORG2ORG)).connection?.status).toBe("DISABLED")
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "apply: an app whose status the manifest leaves out keeps it through an update",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        // Okta saves an updated connection DISABLED unless the update activates it.
        const manifest = manifestOf([
          "apps:",
          `  - id: ${ZSCALER}`,
          "    authScheme: TOKEN",
          "    baseUrl: https://scim.example.com/v2",
          `  - id: ${ORG2ORG}`,
          "    authScheme: TOKEN",
          "    baseUrl: https://target.example.com"
        ])
        const applied = yield* cli(["apply", manifest], env)
        expect(applied.code).toBe(0)
        expect((yield* sim.inspect(ZSCALER)).connection).toMatchObject({
          baseUrl: "https://scim.example.com/v2",
          status: "ENABLED"
        })
        // Okta never returns the token: the plan says that an update without it may lose it.
        expect(applied.stdout).toContain(
          `${ZSCALER}  baseUrl https://scim.zscalerbeta.net/1234567/890/scim → https://scim.example.com/v2; token not in the manifest: the update replaces the configuration, and Okta may not keep the one it has`
        )
        expect((yield* sim.inspect(ORG2ORG)).connection).toMatchObject({
          baseUrl: "https://target.example.com",
          status: "DISABLED"
        })
        const updates = (yield* sim.requests).filter((r) => r.method === "POST")
        expect(updates.map((r) => [r.path.split("/")[4], r.query["activate"]])).toEqual(
          expect.arrayContaining([
            [ZSCALER, "true"],
            [ORG2ORG, undefined]
          ])
        )
        const again = yield* cli(["apply", manifest, "--dry-run", "--detailed-exitcode"], env)
        expect(again.code).toBe(0)
        // A connection made a token one has no token to keep: the plan says to give one.
        const toToken = manifestOf(["apps:", `  - id: ${ORG2ORG_OAUTH}`, "    authScheme: TOKEN"])
        const plan = yield* cli(["apply", toToken, "--dry-run"], env)
        expect(plan.stdout).toContain(
          `${ORG2ORG_OAUTH}  authScheme OAUTH2 → TOKEN; token not in the manifest: the connection becomes a token one without the app's API token; give it as token: \${env:NAME}\n`
        )
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "apply and update: rotationMode or clientId for an OAuth app that is not Org2Org is said, then refused before any change",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        // A connection that is not OAuth yet: the plan cannot tell, Okta's answer to the update does.
        const GOOGLE = "0oasimgoogletoken001"
        yield* sim.addApp({
          id: GOOGLE,
          name: "google",
          label: "Google Workspace",
          connection: { authScheme: "TOKEN" }
        })
        const google = ["  - id: " + GOOGLE, "    authScheme: OAUTH2", "    rotationMode: AUTO"]
        const first = yield* cli(["apply", manifestOf(["apps:", ...google])], env)
        expect(first.stdout).toContain(
          `${GOOGLE}  authScheme TOKEN → OAUTH2; rotationMode (none) → AUTO`
        )
        expect(first.stderr).toContain(
          `${GOOGLE}: Okta kept no clientId or rotationMode: only Okta Org2Org apps take them`
        )
        // From now on the plan knows: the app is refused, and no other app is changed either.
        const manifest = manifestOf([
          "apps:",
          ...google,
          "    clientId: 0oa2h6su6bVFyJzIf1d7",
          `  - id: ${ZSCALER}`,
          "    authScheme: TOKEN",
          "    baseUrl: https://scim.example.com/v2"
        ])
        const sent = (yield* sim.requests).length
        for (const args of [[], ["--dry-run", "--detailed-exitcode"]]) {
          const run = yield* cli(["apply", manifest, ...args], env)
          expect(run.code).toBe(1)
          expect(run.stdout).toContain(
            `${GOOGLE}  refused: clientId and rotationMode: only Okta Org2Org apps take them, and this app's OAuth connection is not one`
          )
          expect(run.stdout).toContain(
            "Plan: 1 to update, 0 to activate, 0 to deactivate, 0 unchanged, 1 refused"
          )
          expect(run.stderr).toContain("nothing applied: 1 app is refused (above)")
        }
        const since = (yield* sim.requests).slice(sent)
        expect(since.length).toBe(4)
        expect(since.every((r) => r.method === "GET")).toBe(true)
        // An Org2Org OAuth app takes both, and converges.
        const org2org = manifestOf([
          "apps:",
          "  - id: 0oasimorg2orgoauth01",
          "    authScheme: OAUTH2",
          "    clientId: 0oa2h6su6bVFyJzIf1d7",
          "    rotationMode: AUTO"
        ])
        const applied = yield* cli(["apply", org2org], env)
        expect([applied.code, applied.stderr]).toEqual([0, ""])
        const again = yield* cli(["apply", org2org, "--dry-run", "--detailed-exitcode"], env)
        expect(again.code).toBe(0)
        // `update` sends what it is given, and says so too.
        const oauth = ["--auth-scheme", "OAUTH2", "--rotation", "AUTO"]
        const ignored = yield* cli(["update", "0oasimgoogle00000001", ...oauth], env)
        expect(ignored.code).toBe(0)
        expect(ignored.stderr).toContain(
          "0oasimgoogle00000001: Okta kept no clientId or rotationMode: only Okta Org2Org apps take them"
        )
        // Saved DISABLED, awaiting consent: where to consent, and what comes after.
        expect(ignored.stderr).toMatch(
          /0oasimgoogle00000001: saved DISABLED; to finish its OAuth 2\.0 connection, consent in a browser at http:\/\/127\.0\.0\.1:\d+\/simulator\/consent\/google\/0oasimgoogle00000001\?state=[\w-]+, then verify and activate it \(okta-connections verify --activate/
        )
        // `get` says it too, under its table: DISABLED alone does not tell the consent is pending.
        const pending = yield* cli(["get", "0oasimgoogle00000001", ZSCALER], env)
        expect(pending.code).toBe(0)
        expect(pending.stdout).toMatch(/^0oasimgoogle00000001 +DISABLED +OAUTH2$/m)
        expect(pending.stderr).toMatch(
          /^0oasimgoogle00000001: DISABLED; if its OAuth 2\.0 consent is still to be given, consent in a browser at http:\/\/127\.0\.0\.1:\d+\/simulator\/consent\/google\/0oasimgoogle00000001\?state=[\w-]+, then verify and activate it \(okta-connections verify --activate, with the URL Okta continues to\); if it was given, okta-connections activate 0oasimgoogle00000001 enables it\n2 of 2 apps succeeded\n$/m
        )
        // An app without provisioning reads UNKNOWN twice: said what that is.
        const bookmark = yield* cli(["get", "0oasimbookmark000001"], env)
        expect([bookmark.code, bookmark.stderr]).toEqual([
          0,
          "0oasimbookmark000001: UNKNOWN, as Okta shows an app without provisioning (a bookmark app, say): there is no connection to set, and activating it changes nothing\n"
        ])
        const kept = yield* cli(["update", "0oasimorg2orgoauth01", ...oauth, "--activate"], env)
        expect([kept.code, kept.stderr]).toEqual([0, ""])
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "update --activate answered DISABLED says it was not enabled, and what to do",
    () =>
      Effect.gen(function* () {
        const app = "0oasimgoogle00000001"
        // An org that answers DISABLED to --activate (an app awaiting consent, or one that
        // ignores the flag) gives no error: the CLI says it was not enabled, and what to do.
        const asked: Array<string> = []
        let links: Record<string, { readonly href: string }> = {}
        const { url } = yield* loopbackServer((req, res) => {
          asked.push(`${req.method} ${req.url}`)
          res.setHeader("content-type", "application/json")
          res.end(
            JSON.stringify({ status: "DISABLED", profile: { authScheme: "OAUTH2" }, _links: links })
          )
        })
        const refusedBy = { OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: TOKEN }
        links = { authorize: { href: "https://acme.okta.com/consent?state=s1" } }
        const awaiting = yield* cli(
          ["update", app, "--auth-scheme", "OAUTH2", "--activate"],
          refusedBy
        )
        expect([awaiting.code, awaiting.stdout, awaiting.stderr]).toEqual([
          0,
          `${app}: updated, DISABLED\n`,
          `${app}: still DISABLED, though --activate asked Okta to enable it; to finish its OAuth 2.0 connection, consent in a browser at https://acme.okta.com/consent?state=s1, then verify and activate it (okta-connections verify --activate, with the URL Okta continues to)\n`
        ])
        links = {}
        const ignoring = yield* cli(
          ["update", app, "--auth-scheme", "OAUTH2", "--activate"],
          refusedBy
        )
        expect([ignoring.code, ignoring.stderr]).toEqual([
          0,
          `${app}: still DISABLED, though --activate asked Okta to enable it; okta-connections activate ${app} enables it\n`
        ])
        expect(asked).toEqual(
          Array(2).fill(`POST /api/v1/apps/${app}/connections/default?activate=true`)
        )
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "update takes its secret from a variable, a file or standard input; verify takes Okta's URL or --code -",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const fromStdin = yield* cli(
          [
            "update",
            ORG2ORG,
            "--auth-scheme",
            "TOKEN",
            "--base-url",
            "https://t.example.com",
            "--secret-stdin"
          ],
          env,
          "00stdin-secret-token\n"
        )
        expect(fromStdin.code).toBe(0)
        // Okta saved it DISABLED, an enabled connection included: said, with the way back.
        expect(fromStdin.stdout).toBe(`${ORG2ORG}: updated, DISABLED\n`)
        expect(fromStdin.stderr).toBe(
          `${ORG2ORG}: saved DISABLED, as Okta saves an update without --activate; okta-connections activate ${ORG2ORG} enables it\n`
        )
        expect((yield* sim.inspect(ORG2ORG)).connection).toMatchObject({
          baseUrl: "https://t.example.com",
          token: "00stdin-secret-token"
        })
        const fromEnv = yield* cli(
          [
            "update",
            ORG2ORG,
            "--auth-scheme",
            "TOKEN",
            "--secret-env",
            "ORG2ORG_TOKEN",
            "--activate"
          ],
          { ...env, ORG2ORG_TOKEN: "00env-secret-token" }
        )
        expect(fromEnv.code).toBe(0)
        expect((yield* sim.inspect(ORG2ORG)).connection).toMatchObject({
          token: "00env-secret-token",
          status: "ENABLED"
        })
        // A body file without the token, the token given apart: it goes into the body.
        const dir = tempDir("work-")
        const body = join(dir, "body.yaml")
        writeFileSync(body, "baseUrl: https://f.example.com\nprofile:\n  authScheme: TOKEN\n")
        const fileAndEnv = yield* cli(
          ["update", ORG2ORG, "--file", body, "--secret-env", "ORG2ORG_TOKEN"],
          { ...env, ORG2ORG_TOKEN: "00file-env-secret-token" }
        )
        expect(fileAndEnv.code).toBe(0)
        expect((yield* sim.inspect(ORG2ORG)).connection).toMatchObject({
          baseUrl: "https://f.example.com",
          token: "00file-env-secret-token"
        })
        // `--secret-file -` reads standard input, as `--from -` and `--file -` do.
        const dash = yield* cli(
          ["update", ORG2ORG, "--auth-scheme", "TOKEN", "--secret-file", "-"],
          env,
          "00dash-token\n"
        )
        expect([dash.code, dash.stderr]).toEqual([0, expect.not.stringContaining("no token")])
        expect((yield* sim.inspect(ORG2ORG)).connection).toMatchObject({ token: "00dash-token" })
        // Given twice, or a body file with flags beside it: refused, nothing sent.
        const sent = (yield* sim.requests).length
        writeFileSync(
          join(dir, "with-token.yaml"),
          "profile:\n  authScheme: TOKEN\n  token: 00in-file-token\n"
        )
        const twice = yield* cli(
          ["update", ORG2ORG, "--file", join(dir, "with-token.yaml"), "--secret-env", "T"],
          { ...env, T: "00other" }
        )
        expect(twice.code).toBe(2)
        expect(twice.stderr).toContain("has a token already")
        const withFlags = yield* cli(
          ["update", ORG2ORG, "--file", body, "--base-url", "https://ignored.example.com"],
          env
        )
        expect(withFlags.code).toBe(2)
        expect(withFlags.stderr).toContain("--file is the whole body")
        // An empty secret (a secrets manager that printed nothing) would blank the app's token.
        writeFileSync(join(dir, "empty.txt"), "\n")
        for (const [flags, message] of [
          [["--secret-stdin"], "the secret from standard input is empty"],
          [["--secret-file", join(dir, "empty.txt")], "empty.txt is empty"],
          [["--secret-file", "-"], "the secret from standard input is empty"]
        ] as const) {
          const empty = yield* cli(["update", ORG2ORG, "--auth-scheme", "TOKEN", ...flags], env, "")
          expect(empty.code).toBe(2)
          expect(empty.stderr).toContain(message)
        }
        // A flag the scheme does not take was dropped without a word.
        for (const [flags, message] of [
          [["--auth-scheme", "TOKEN", "--client-id", "0oaclient"], "go with --auth-scheme OAUTH2"],
          [["--auth-scheme", "TOKEN", "--admin-username", "admin"], "go with --auth-scheme OAUTH2"],
          [
            ["--auth-scheme", "OAUTH2", "--base-url", "https://x.example.com"],
            "goes with --auth-scheme TOKEN"
          ],
          [["--auth-scheme", "OAUTH2", "--admin-username", "admin"], "go together"]
        ] as const) {
          const refused = yield* cli(["update", ORG2ORG, ...flags], env)
          expect(refused.code).toBe(2)
          expect(refused.stderr).toContain(message)
        }
        // Nor is the admin password without its user dropped: refused the same way.
        const passwordAlone = yield* cli(
          ["update", OFFICE365, "--auth-scheme", "OAUTH2", "--secret-env", "ADMIN_PASSWORD"],
          { ...env, ADMIN_PASSWORD: "00admin-password" }
        )
        expect([passwordAlone.code, passwordAlone.stderr]).toEqual([
          2,
          expect.stringContaining("go together")
        ])
        expect(passwordAlone.stdout + passwordAlone.stderr).not.toContain("00admin-password")
        expect((yield* sim.requests).length).toBe(sent)
        for (const run of [fromStdin, fromEnv, fileAndEnv, twice]) {
          expect(run.stdout + run.stderr).not.toMatch(
            /00(stdin|env|file-env)-secret-token|00in-file/
          )
        }
        const google = "0oasimgoogle00000001"
        const { code, state } = yield* sim.consent(google)
        // Okta's URL for another app: said before anything is sent (Okta would say "code invalid").
        const before = (yield* sim.requests).length
        const otherApps = yield* cli(
          [
            "verify",
            "google",
            google,
            "--continue-url",
            `${env.OKTA_CLIENT_ORGURL}/api/v1/apps/slack/0oasimslack000000001/oauth2/callback?code=${code}&state=${state}`
          ],
          env
        )
        expect(otherApps.code).toBe(2)
        expect(otherApps.stderr).toContain(
          `--continue-url is Okta's URL for slack 0oasimslack000000001, not for google ${google}`
        )
        // Another app of the same name, or the same app under another name: refused alike.
        for (const [name, id] of [
          ["google", "0oasimgoogle00000002"],
          ["slack", google]
        ]) {
          const other = yield* cli(
            [
              "verify",
              "google",
              google,
              "--continue-url",
              `${env.OKTA_CLIENT_ORGURL}/api/v1/apps/${name}/${id}/oauth2/callback?code=${code}&state=${state}`
            ],
            env
          )
          expect(other.code).toBe(2)
          expect(other.stderr).toContain(`--continue-url is Okta's URL for ${name} ${id}, not for`)
        }
        // Okta's URL and --code: one way, not both.
        const both = yield* cli(
          ["verify", "google", google, "--continue-url", "-", "--code", "-", "--state", state],
          env,
          `${env.OKTA_CLIENT_ORGURL}/continue?code=${code}&state=${state}\n`
        )
        expect(both.code).toBe(2)
        expect(both.stderr).toContain("give --continue-url, or --code and --state, not both")
        // Okta's URL without its state names no consent: refused before anything is sent.
        const stateless = yield* cli(
          ["verify", "google", google, "--continue-url", "-"],
          env,
          `${env.OKTA_CLIENT_ORGURL}/continue?code=${code}\n`
        )
        expect(stateless.code).toBe(2)
        expect(stateless.stderr).toContain(
          "--continue-url must be Okta's URL with code and state\n"
        )
        // On the command line, unquoted: the shell ran `… --continue-url …?code=…` in the
        // background at the "&". Or copied from a page's source, "&amp;" and all.
        const cut = yield* cli(
          [
            "verify",
            "google",
            google,
            "--continue-url",
            `${env.OKTA_CLIENT_ORGURL}/continue?code=${code}`
          ],
          env
        )
        expect(cut.stderr).toContain(
          "with code and state: it has a code but no state, as when a shell cuts an unquoted URL at its &; quote it ('…'), or give --continue-url - and paste it on standard input"
        )
        const escaped = yield* cli(
          ["verify", "google", google, "--continue-url", "-"],
          env,
          `${env.OKTA_CLIENT_ORGURL}/continue?code=${code}&amp;state=${state}\n`
        )
        expect(escaped.stderr).toContain(
          "with code and state: it has &amp; where Okta's has & (copied from a page's source?)"
        )
        // Sent back with the provider's refusal (the admin clicked Deny): said as such, its words
        // on one line.
        const denied = yield* cli(
          ["verify", "google", google, "--continue-url", "-"],
          env,
          `${env.OKTA_CLIENT_ORGURL}/api/v1/apps/google/${google}/oauth2/callback?error=access_denied&error_description=The+admin+denied%0A%1B%5B31maccess&state=${state}\n`
        )
        expect(denied.stderr).toBe(
          `okta-connections: --continue-url says the consent was not given: access_denied (The admin denied [31maccess); give it again at the consent link (okta-connections get ${google} prints it)\n`
        )
        expect([cut.code, escaped.code, denied.code]).toEqual([2, 2, 2])
        expect((yield* sim.requests).length).toBe(before)
        // Pasted with the quotes of the JSON or the page that showed it.
        const verified = yield* cli(
          ["verify", "google", google, "--continue-url", "-"],
          env,
          `"${env.OKTA_CLIENT_ORGURL}/continue?code=${code}&state=${state}"\n`
        )
        expect(verified.code).toBe(0)
        expect(verified.stdout.trim()).toBe(`${google}: verified`)
        expect((yield* sim.inspect(google)).connection?.verified).toBe(true)
        expect(verified.stdout + verified.stderr).not.toContain(code)
        expect(verified.stderr).not.toContain("--continue-url is on")
        // Okta's URL on another host: sent to the configured org all the same (an org with a
        // custom domain answers on both), with a word of it, as another org's fails there.
        const orgHost = new URL(env.OKTA_CLIENT_ORGURL).host
        const elsewhere = yield* cli(
          ["verify", "google", google, "--continue-url", "-"],
          env,
          `https://other.okta.example/continue?code=${code}&state=${state}\n`
        )
        expect(elsewhere.stderr).toContain(
          `--continue-url is on other.okta.example, the configured org is ${orgHost}: verifying at ${orgHost}`
        )
        expect(elsewhere.code).toBe(1) // the code was used above: Okta refuses it
        // With the way on: a code verifies once, and the app it verified is activated as it is.
        expect(elsewhere.stderr).toContain(
          `${google}: a consent's code verifies once: if it was verified already, okta-connections activate ${google} enables the connection; if not, give the consent again (okta-connections get ${google} prints the link)\n`
        )
        expect(elsewhere.stdout + elsewhere.stderr).not.toContain(code)
        // --code - and --state: the code from standard input, the state as a value or its next line.
        const slack = "0oasimslack000000001"
        const first = yield* sim.consent(slack)
        const withState = yield* cli(
          ["--verbose", "verify", "slack", slack, "--code", "-", "--state", first.state],
          env,
          `${first.code}\n`
        )
        expect(withState.code).toBe(0)
        expect(withState.stdout.trim()).toBe(`${slack}: verified`)
        // --verbose logs the request, but never the code in its query.
        expect(withState.stderr).toContain(`POST /api/v1/apps/slack/${slack}/oauth2/callback`)
        expect(withState.stdout + withState.stderr).not.toContain(first.code)
        const zoom = "0oasimzoomus00000001"
        const second = yield* sim.consent(zoom)
        // The state missing from its line is said before anything is sent.
        const noState = yield* cli(
          ["verify", "zoomus", zoom, "--code", "-", "--state", "-"],
          env,
          `${second.code}\n`
        )
        expect(noState.code).toBe(2)
        expect(noState.stderr).toContain(
          "standard input must hold the code, then the state on the next line"
        )
        // Each line without the spaces a paste leaves around it.
        const bothOnStdin = yield* cli(
          ["verify", "zoomus", zoom, "--code", "-", "--state", "-"],
          env,
          `${second.code} \n ${second.state} \n`
        )
        expect(bothOnStdin.code).toBe(0)
        expect((yield* sim.inspect(zoom)).connection?.verified).toBe(true)
        // --activate: the flow's last step too, each step said as it is done.
        // An update without --activate saves it DISABLED, with a new consent to give.
        yield* cli(["update", slack, "--auth-scheme", "OAUTH2"], env)
        expect((yield* sim.inspect(slack)).connection?.status).toBe("DISABLED")
        const again = yield* sim.consent(slack)
        const andActivate = yield* cli(
          ["verify", "slack", slack, "--activate", "--code", "-", "--state", again.state],
          env,
          `${again.code}\n`
        )
        expect([andActivate.code, andActivate.stdout]).toEqual([
          0,
          `${slack}: verified\n${slack}: activated\n`
        ])
        expect((yield* sim.inspect(slack)).connection?.status).toBe("ENABLED")
        const requestsBefore = (yield* sim.requests).length
        const onArgv = yield* cli(["verify", "zoomus", zoom, "--code", "abc", "--state", "x"], env)
        expect(onArgv.code).toBe(2)
        expect(onArgv.stderr).toContain("the code is a credential")
        expect((yield* sim.requests).length).toBe(requestsBefore)
      }).pipe(Effect.scoped),
    60_000
  )

  it.live(
    "okta.yaml as the SDKs take a service app's: scopes as a list, the key as a JWK object",
    () =>
      Effect.gen(function* () {
        const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
        const { url } = yield* serve()
        const sim = yield* OktaSimulator
        yield* sim.addOAuthClient({
          clientId: "0oayamlservice",
          publicKey: rsa.publicKey.export({ format: "jwk" }) as PublicJwk
        })
        const home = tempDir("yaml-")
        mkdirSync(join(home, ".okta"))
        const client = (lines: string) =>
          `okta:\n  client:\n    orgUrl: "${url}"\n    authorizationMode: PrivateKey\n${lines}`
        writeFileSync(
          join(home, ".okta", "okta.yaml"),
          client(
            "    clientId: 0oayamlservice\n" +
              "    scopes:\n      - okta.apps.read\n      - okta.apps.manage\n" +
              `    privateKey: ${JSON.stringify(rsa.privateKey.export({ format: "jwk" }))}\n`
          )
        )
        // The working directory's file, its keys left empty: the home's values stand.
        const work = tempDir("cwd-")
        writeFileSync(join(work, "okta.yaml"), client('    clientId: ""\n    privateKey:\n'))
        // Activating takes okta.apps.manage, the list's second scope.
        const activated = yield* cli(["activate", ZSCALER], { HOME: home }, undefined, work)
        expect([activated.code, activated.stderr]).toEqual([0, ""])
        expect(activated.stdout).toBe(`${ZSCALER}: activated\n`)
        // keyId is read too: a bad one is named by its key and file.
        const file = join(work, "okta.yaml")
        writeFileSync(file, client(`    keyId: "'kid-1'"\n`))
        const quoted = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect(quoted.code).toBe(3)
        expect(quoted.stderr).toContain(`wrapped in quotes`)
        expect(quoted.stderr).toContain(`(okta.client.keyId in ${file})`)
        // A key file that cannot be read: not valid where it was set, and not "not set".
        writeFileSync(file, client("    privateKey: ./none.pem\n"))
        const noKey = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect(noKey.code).toBe(3)
        expect(noKey.stderr).toContain(
          `not valid: okta.client.privateKey in ${file}: cannot read the key file ./none.pem (no such file)`
        )
        expect(noKey.stderr).not.toContain("not set")
        // A value the SDKs would not take either, and a file that cannot be read: named.
        writeFileSync(file, client("    clientId: [0oa1, 0oa2]\n"))
        const listed = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect([listed.code, listed.stderr]).toEqual([
          3,
          `okta-connections: ${file}: okta.client.clientId must be a string\n`
        ])
        rmSync(file)
        mkdirSync(file)
        const unreadable = yield* cli(["get", ZSCALER], { HOME: home }, undefined, work)
        expect(unreadable.code).toBe(3)
        expect(unreadable.stderr).toContain(`${file}: cannot read it (it is a directory)`)
      }).pipe(Effect.provide(OktaSimulator.layer()), Effect.scoped),
    60_000
  )

  it.live(
    "PrivateKey mode: the key, or a file's path as Okta's Python SDK takes it; PKCS#1 and SEC1 PEMs too",
    () =>
      Effect.gen(function* () {
        const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
        const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
        const { url } = yield* serve()
        const sim = yield* OktaSimulator
        yield* sim.addOAuthClient({
          clientId: "0oarsaservice",
          publicKey: rsa.publicKey.export({ format: "jwk" }) as PublicJwk
        })
        yield* sim.addOAuthClient({
          clientId: "0oaecservice",
          publicKey: ec.publicKey.export({ format: "jwk" }) as PublicJwk
        })
        const dir = tempDir("work-")
        // What `openssl genrsa` and `openssl ecparam -genkey` long wrote: PKCS#1 and SEC1.
        const pkcs1 = rsa.privateKey.export({ type: "pkcs1", format: "pem" }).toString()
        const sec1 = ec.privateKey.export({ type: "sec1", format: "pem" }).toString()
        writeFileSync(join(dir, "rsa.pem"), pkcs1)
        mkdirSync(join(dir, "Jane Doe"))
        writeFileSync(join(dir, "Jane Doe", "rsa key.pem"), pkcs1)
        for (const [clientId, key, cwd] of [
          ["0oarsaservice", join(dir, "rsa.pem"), root],
          ["0oarsaservice", join(dir, "Jane Doe", "rsa key.pem"), root],
          ["0oarsaservice", "./rsa.pem", dir],
          // In the home directory (HOME is `dir` here).
          ["0oarsaservice", "~/rsa.pem", root],
          ["0oaecservice", sec1, root],
          // On one line, as an env file holds it: its newlines written \n.
          ["0oarsaservice", pkcs1.trim().replace(/\n/g, "\\n"), root]
        ] as const) {
          const run = yield* cli(
            ["get", ZSCALER, "--json"],
            { ...serviceAppEnv(url, clientId, key), HOME: dir },
            undefined,
            cwd
          )
          expect(run.stderr).toBe("")
          expect(JSON.parse(run.stdout)).toMatchObject([{ id: ZSCALER }])
        }
        const missing = yield* cli(
          ["get", ZSCALER],
          serviceAppEnv(url, "0oarsaservice", join(dir, "none.pem"))
        )
        expect(missing.code).toBe(3)
        expect(missing.stderr).toContain(`OKTA_CLIENT_PRIVATEKEY: cannot read the key file`)
        // A key's bare base64 is no path: never read, never named.
        const body = pkcs1.split("\n")[1]!
        const bare = yield* cli(["get", ZSCALER], serviceAppEnv(url, "0oarsaservice", body))
        expect(bare.code).toBe(3)
        expect(bare.stderr).toContain("must be a PKCS#8 PEM")
        expect(bare.stderr).not.toContain(body)
        expect(yield* sim.tokenRequests).toBe(6)
      }).pipe(Effect.provide(OktaSimulator.layer()), Effect.scoped),
    60_000
  )

  it.live(
    "an org it cannot connect to stops the run: the apps not started are not sent, exit 1",
    () =>
      Effect.gen(function* () {
        const dir = tempDir("work-")
        const ids = generatedApps(30).map((app) => app.id)
        writeFileSync(join(dir, "apps.txt"), ids.join("\n"))
        // A port nothing listens on: the connection is refused, after each call's retries.
        const port = yield* Effect.async<number>((resume) => {
          const server = createServer().listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo
            server.close(() => resume(Effect.succeed(port)))
          })
        })
        const run = yield* cli(["--concurrency", "2", "get", "--from", join(dir, "apps.txt")], {
          OKTA_CLIENT_ORGURL: `http://127.0.0.1:${port}`,
          OKTA_CLIENT_TOKEN: TOKEN
        })
        expect(run.code).toBe(1)
        // The two calls in flight, and no more: each says the connection was refused.
        const failures = run.stderr
          .split("\n")
          .filter((line) => line.includes("OktaTransportError"))
        expect(failures.map((line) => line.includes("ECONNREFUSED"))).toEqual([true, true])
        expect(run.stderr).toContain(
          `28 apps not sent, the org being unreachable: ${ids.slice(2, 12).join(", ")}, …\n`
        )
        expect(run.stderr).toContain("0 of 30 apps succeeded")
      }),
    30_000
  )

  it.live(
    "refused credentials stop the run: the apps not started are not sent, and it exits 3",
    () =>
      Effect.gen(function* () {
        const { url } = yield* serve()
        const sim = yield* OktaSimulator
        const dir = tempDir("work-")
        const ids = generatedApps(30).map((app) => app.id)
        writeFileSync(join(dir, "apps.txt"), ids.join("\n"))
        // A wrong token: a 401 for each app in flight, and none sent after.
        const wrong = yield* cli(["--concurrency", "2", "get", "--from", join(dir, "apps.txt")], {
          OKTA_CLIENT_ORGURL: url,
          OKTA_CLIENT_TOKEN: "00not-the-org-token"
        })
        expect(wrong.code).toBe(3)
        expect(wrong.stderr).toContain(`28 apps not sent, the credentials being refused: ${ids[2]}`)
        expect(wrong.stderr).toContain("0 of 30 apps succeeded")
        // Standard error is no terminal: a progress line every tenth of the apps, not one each.
        expect(wrong.stderr.match(/^\[ ?\d+\/30\]/gm)).toEqual(
          [3, 6, 9, 12, 15, 18, 21, 24, 27, 30].map((n) => `[${String(n).padStart(2)}/30]`)
        )
        expect((yield* sim.requests).map((r) => r.outcome)).toEqual([401, 401])
        const one = yield* cli(["--concurrency", "1", "get", ids[0]!, ids[1]!], {
          OKTA_CLIENT_ORGURL: url,
          OKTA_CLIENT_TOKEN: "00not-the-org-token"
        })
        expect(one.stderr).toContain(`1 app not sent, the credentials being refused: ${ids[1]}`)
        // The progress line does not count it as failed either.
        expect(one.stderr).toContain("[2/2] 1 failed · 1 not sent")
        // A token without the scope a write needs: Okta's insufficient_scope 403 is every app's.
        const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
        yield* sim.addOAuthClient({
          clientId: "0oareadonly",
          publicKey: rsa.publicKey.export({ format: "jwk" }) as PublicJwk,
          scopes: ["okta.apps.read"]
        })
        const rsaKey = rsa.privateKey.export({ type: "pkcs8", format: "pem" }).toString()
        /** One call per app of the list, in turn, as the service app `clientId` with `rsa`'s key. */
        const asServiceApp = (clientId: string, command: "activate" | "get") =>
          cli(
            ["--concurrency", "1", command, "--from", join(dir, "apps.txt")],
            serviceAppEnv(url, clientId, rsaKey)
          )
        /** `get` of one app as the service app `clientId`, signing with `key`. */
        const getAs = (clientId: string, key: string, extra: Record<string, string> = {}) =>
          cli(["get", ZSCALER], { ...serviceAppEnv(url, clientId, key), ...extra })
        const readOnly = yield* asServiceApp("0oareadonly", "activate")
        expect(readOnly.code).toBe(3)
        expect(readOnly.stderr).toContain("insufficient_scope")
        // With the way on: the token was asked for without the scope.
        expect(readOnly.stderr).toContain(
          "; ask for okta.apps.manage too: add it to OKTA_CLIENT_SCOPES (or scopes in okta.yaml)\n"
        )
        expect(readOnly.stderr).toContain("29 apps not sent")
        // A scope asked for that the service app was not granted: the token request is refused.
        const ungranted = yield* getAs("0oareadonly", rsaKey, {
          OKTA_CLIENT_SCOPES: "okta.apps.read okta.apps.manage"
        })
        expect(ungranted.code).toBe(3)
        expect(ungranted.stderr).toContain(
          "invalid_scope: One or more scopes are not configured for the authorization server resource."
        )
        expect(ungranted.stderr).toContain(
          "; grant the service app each scope of OKTA_CLIENT_SCOPES (or scopes in okta.yaml) in its Okta API Scopes tab, or leave out the ones it does not need\n"
        )
        // A private key that is not the service app's, and a key id it has no key of: Okta's
        // words, and the setting to mend.
        const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 })
          .privateKey.export({ type: "pkcs8", format: "pem" })
          .toString()
        const wrongKey = yield* getAs("0oareadonly", otherKey)
        expect(wrongKey.code).toBe(3)
        expect(wrongKey.stderr).toContain(
          "invalid_client: The client_assertion signature is invalid."
        )
        expect(wrongKey.stderr).toContain(
          "); the private key (OKTA_CLIENT_PRIVATEKEY, or privateKey in okta.yaml) is not the one whose public key the service app has: add its public key to the app's Public Keys, or give the private key of one there\n"
        )
        yield* sim.addOAuthClient({
          clientId: "0oakeyed",
          publicKey: { ...rsa.publicKey.export({ format: "jwk" }), kid: "key-1" } as PublicJwk
        })
        const wrongKid = yield* getAs("0oakeyed", rsaKey, { OKTA_CLIENT_KEYID: "key-2" })
        expect(wrongKid.code).toBe(3)
        expect(wrongKid.stderr).toContain(
          "invalid_client: The client_assertion JWT kid is invalid."
        )
        expect(wrongKid.stderr).toContain(
          "); give the key id the service app's Public Keys list for this key as OKTA_CLIENT_KEYID (or keyId in okta.yaml)\n"
        )
        // A service app the org does not know: its token refused (invalid_client), every app's.
        const tokensBefore = yield* sim.tokenRequests
        const unknownApp = yield* asServiceApp("0oanosuchservice", "get")
        expect(unknownApp.code).toBe(3)
        expect(unknownApp.stderr).toContain("OktaAuthError")
        expect(unknownApp.stderr).toContain("29 apps not sent")
        expect(yield* sim.tokenRequests).toBe(tokensBefore + 1)
        expect(
          (yield* sim.requests).filter((r) => r.path.endsWith("/lifecycle/activate"))
        ).toHaveLength(1)
      }).pipe(
        Effect.provide(
          OktaSimulator.layer({
            apps: generatedApps(30),
            tokens: [{ token: TOKEN }]
          })
        ),
        Effect.scoped
      ),
    60_000
  )

  it.live(
    "with HTTPS_PROXY or HTTP_PROXY set it goes through the proxy, unless told --transport fetch",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        const proxy = yield* tunnellingProxy
        const proxied = { ...env, HTTP_PROXY: proxy.url, NO_PROXY: "" }
        const through = yield* cli(["get", ZSCALER, "--json"], proxied)
        expect(through.code).toBe(0)
        expect(JSON.parse(through.stdout)).toMatchObject([{ id: ZSCALER, status: "ENABLED" }])
        const port = new URL(env.OKTA_CLIENT_ORGURL).port
        expect(proxy.tunnels.map((t) => t.target)).toEqual([`127.0.0.1:${port}`])
        // Asked for fetch, which reads no proxy variables: straight to the org.
        const direct = yield* cli(["--transport", "fetch", "get", ZSCALER, "--json"], proxied)
        expect(direct.code).toBe(0)
        expect(direct.stderr).toContain("HTTP_PROXY is set, but --transport fetch does not use it")
        expect(proxy.tunnels).toHaveLength(1)
        // A variable set empty (how a shell switches a proxy off) is no proxy.
        const off = { ...proxied, HTTP_PROXY: "", HTTPS_PROXY: "" }
        for (const args of [[], ["--transport", "fetch"]]) {
          const unproxied = yield* cli([...args, "get", ZSCALER, "--json"], off)
          expect([unproxied.code, unproxied.stderr]).toEqual([0, ""])
        }
        expect(proxy.tunnels).toHaveLength(1)
        // A proxy that wants other credentials than the variable holds: said, never echoed.
        const asks = yield* refusingProxy(407)
        const withUser = asks.url.replace("http://", "http://ops:s3cret@")
        const refused = yield* cli(["get", ZSCALER], { ...env, HTTP_PROXY: withUser, NO_PROXY: "" })
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain(
          "could not connect (UND_ERR_ABORTED: Proxy response (407) !== 200 when HTTP Tunneling; the proxy asks for credentials (407 to CONNECT)"
        )
        expect(refused.stdout + refused.stderr).not.toContain("s3cret")
        expect(asks.tunnels).toHaveLength(1)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "the Okta SDKs' proxy setting (OKTA_CLIENT_PROXY_*, okta.client.proxy) is gone through, over HTTPS_PROXY",
    () =>
      Effect.gen(function* () {
        const { env } = yield* org
        const sdk = yield* tunnellingProxy
        const other = yield* tunnellingProxy
        const { port } = new URL(sdk.url)
        const orgPort = new URL(env.OKTA_CLIENT_ORGURL).port
        const viaVariables = yield* cli(["get", ZSCALER, "--json"], {
          ...env,
          OKTA_CLIENT_PROXY_HOST: "127.0.0.1",
          OKTA_CLIENT_PROXY_PORT: port,
          OKTA_CLIENT_PROXY_USERNAME: "ops@corp",
          OKTA_CLIENT_PROXY_PASSWORD: "s3cret:pw",
          HTTP_PROXY: other.url,
          NO_PROXY: ""
        })
        expect([viaVariables.code, viaVariables.stderr]).toEqual([0, ""])
        expect(JSON.parse(viaVariables.stdout)).toMatchObject([{ id: ZSCALER }])
        // Its credentials as Proxy-Authorization, percent-encoded in the URL and decoded again.
        expect(sdk.tunnels).toEqual([
          {
            target: `127.0.0.1:${orgPort}`,
            auth: `Basic ${Buffer.from("ops@corp:s3cret:pw").toString("base64")}`
          }
        ])
        expect(other.tunnels).toHaveLength(0)
        // From okta.yaml, as the SDKs read it.
        const work = tempDir("work-")
        writeFileSync(
          join(work, "okta.yaml"),
          `okta:\n  client:\n    proxy:\n      host: 127.0.0.1\n      port: ${port}\n`
        )
        const viaYaml = yield* cli(["get", ZSCALER], env, undefined, work)
        expect([viaYaml.code, viaYaml.stderr]).toEqual([0, ""])
        expect(sdk.tunnels).toHaveLength(2)
        // With --transport fetch it is not used, and said so, in the words of where it was set.
        const fetch = yield* cli(["--transport", "fetch", "get", ZSCALER], env, undefined, work)
        expect(fetch.code).toBe(0)
        expect(fetch.stderr).toContain(
          `okta.client.proxy.host in ${join(work, "okta.yaml")} is set, but --transport fetch does not use it`
        )
        expect(sdk.tunnels).toHaveLength(2)
        // A value that makes no proxy is named where it was set, never echoed.
        for (const [settings, said] of [
          [{ OKTA_CLIENT_PROXY_PORT: "99999" }, "OKTA_CLIENT_PROXY_PORT: must be 1 to 65535"],
          [
            { OKTA_CLIENT_PROXY_HOST: "socks5://proxy:1080" },
            "OKTA_CLIENT_PROXY_HOST: must be a host name, or an http:// or https:// URL"
          ],
          [
            { OKTA_CLIENT_PROXY_PASSWORD: "s3cret-alone" },
            "OKTA_CLIENT_PROXY_PASSWORD: goes with a username (OKTA_CLIENT_PROXY_USERNAME)"
          ],
          // As an env file leaves a variable: each call tried to resolve it, and retried.
          [
            { OKTA_CLIENT_PROXY_HOST: "${PROXY_HOST}" },
            "OKTA_CLIENT_PROXY_HOST: is a variable or placeholder never filled in (${…}, $NAME or {…})"
          ]
        ] as const) {
          const bad = yield* cli(["get", ZSCALER], {
            ...env,
            OKTA_CLIENT_PROXY_HOST: "127.0.0.1",
            ...settings
          })
          // Said alone: where the org and the credentials come from is not what is wrong.
          expect([bad.code, bad.stderr]).toEqual([3, `okta-connections: not valid: ${said}\n`])
        }
        writeFileSync(join(work, "okta.yaml"), "okta:\n  client:\n    proxy: proxy.internal:3128\n")
        const notMapping = yield* cli(["get", ZSCALER], env, undefined, work)
        expect([notMapping.code, notMapping.stderr]).toEqual([
          3,
          expect.stringContaining("okta.client.proxy must be a mapping")
        ])
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "a connect failure's hint names the flag to use, not the library's layer",
    () =>
      Effect.gen(function* () {
        // Port 6000 is one the fetch standard blocks: fetch fails it without connecting.
        const blocked = yield* cli(["get", ZSCALER], {
          OKTA_CLIENT_ORGURL: "http://127.0.0.1:6000",
          OKTA_CLIENT_TOKEN: TOKEN
        })
        expect(blocked.code).toBe(1)
        expect(blocked.stderr).toContain("use another port, or --transport undici")
        // A port nothing listens on, behind a proxy fetch was told to ignore.
        const closed = yield* loopbackServer((_req, res) => res.end()).pipe(
          Effect.tap(({ close }) => Effect.sync(close)),
          Effect.scoped
        )
        const toClosed = {
          OKTA_CLIENT_ORGURL: closed.url,
          OKTA_CLIENT_TOKEN: TOKEN,
          OKTA_CLIENT_RATELIMIT_MAXRETRIES: "0"
        }
        const refused = yield* cli(["--transport", "fetch", "get", ZSCALER], {
          ...toClosed,
          HTTP_PROXY: "http://127.0.0.1:9"
        })
        expect(refused.code).toBe(1)
        expect(refused.stderr).toContain(
          "HTTP_PROXY is set, but Node's fetch does not use it: if Okta is reached through that proxy, leave out --transport fetch"
        )
        // The Okta SDKs' proxy setting, which the command line reads, but not on fetch.
        const sdkProxy = yield* cli(["--transport", "fetch", "get", ZSCALER], {
          ...toClosed,
          OKTA_CLIENT_PROXY_HOST: "proxy.corp"
        })
        expect(sdkProxy.code).toBe(1)
        expect(sdkProxy.stderr).toContain(
          "OKTA_CLIENT_PROXY_HOST is set (the Okta SDKs' proxy setting), but --transport fetch does not use it: leave that out"
        )
        // A proxy that cannot be reached is named as what set it.
        const closedProxy = yield* loopbackServer((_req, res) => res.end()).pipe(
          Effect.tap(({ close }) => Effect.sync(close)),
          Effect.scoped
        )
        const sdkProxyDown = yield* cli(["get", ZSCALER], {
          ...toClosed,
          OKTA_CLIENT_PROXY_HOST: closedProxy.url
        })
        expect(sdkProxyDown.code).toBe(1)
        expect(sdkProxyDown.stderr).toContain(
          "that is the proxy's address (OKTA_CLIENT_PROXY_HOST, or okta.client.proxy in okta.yaml)"
        )
        expect(
          blocked.stderr + refused.stderr + sdkProxy.stderr + sdkProxyDown.stderr
        ).not.toContain("OktaUndici")
      }),
    30_000
  )

  it.live(
    "update --file takes a YAML body, and says when it sends no token; --transport undici makes the same calls",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const file = join(tempDir("work-"), "body.yaml")
        writeFileSync(
          file,
          "baseUrl: https://yaml.example.com/scim\nprofile:\n  authScheme: TOKEN\n"
        )
        expect((yield* sim.inspect(ZSCALER)).connection?.token).toBe("00zscaler-seed-token")
        const updated = yield* cli(
          ["--transport", "undici", "update", ZSCALER, "--file", file],
          env
        )
        expect(updated.code).toBe(0)
        expect((yield* sim.inspect(ZSCALER)).connection?.baseUrl).toBe(
          "https://yaml.example.com/scim"
        )
        // A body without the token replaced the one the app had (as the simulator models Okta):
        // said, with the way to give it.
        expect((yield* sim.inspect(ZSCALER)).connection?.token).toBeUndefined()
        expect(updated.stderr).toContain(
          `${ZSCALER}: no token was sent: an update replaces the configuration, and Okta may not keep the one it had; give it with --secret-env`
        )
        const got = yield* cli(["--transport", "undici", "get", ZSCALER, "--json"], env)
        expect(got.code).toBe(0)
        expect(JSON.parse(got.stdout)).toMatchObject([
          { id: ZSCALER, baseUrl: "https://yaml.example.com/scim" }
        ])
        // A body that is not YAML: where, never the line, which holds the token here.
        writeFileSync(file, 'profile:\n  authScheme: TOKEN\n  token: "00token-in-body\n')
        const broken = yield* cli(["update", ZSCALER, "--file", file], env)
        expect(broken.code).toBe(2)
        expect(broken.stderr).toContain("--file: not YAML or JSON (line")
        expect(broken.stdout + broken.stderr).not.toContain("00token-in-body")
        // YAML the client refuses (a misspelt member): a usage error too, said by the client,
        // without the value; nothing sent.
        writeFileSync(file, "profile:\n  authScheme: TOKEN\n  tokn: 00token-misspelt\n")
        const before = (yield* sim.requests).length
        const refused = yield* cli(["update", ZSCALER, "--file", file], env)
        expect([refused.code, refused.stdout, refused.stderr]).toEqual([
          2,
          "",
          "okta-connections: updateDefaultProvisioningConnectionForApplication: invalid body: profile.tokn: is not allowed (did you mean token?); nothing was sent\n"
        ])
        // A secret written as a manifest writes it: refused, with the way the command line takes
        // one (sent, it would have replaced the app's token with the reference's text).
        writeFileSync(file, "profile:\n  authScheme: TOKEN\n  token: ${env:ZSCALER_TOKEN}\n")
        const reference = yield* cli(["update", ZSCALER, "--file", file], {
          ...env,
          ZSCALER_TOKEN: "00from-env"
        })
        expect([reference.code, reference.stderr]).toEqual([
          2,
          "okta-connections: updateDefaultProvisioningConnectionForApplication: invalid body: profile.token: is a variable that was never expanded (${…} or $NAME): give the value it stands for; nothing was sent\n  update reads a secret from --secret-env NAME, --secret-file PATH or --secret-stdin, and puts it in the body (${env:NAME} is apply's, in a manifest)\n"
        ])
        // What get --json prints, edited and given back: said as such, nothing sent.
        const printed = yield* cli(["get", ZSCALER, "--json"], env)
        writeFileSync(file, printed.stdout)
        const list = yield* cli(["update", ZSCALER, "--file", file], env)
        expect([list.code, list.stderr]).toEqual([
          2,
          "okta-connections: --file: a list (as get --json prints): give one app's body\n"
        ])
        writeFileSync(file, JSON.stringify(JSON.parse(printed.stdout)[0]))
        const one = yield* cli(["update", ZSCALER, "--file", file], env)
        expect([one.code, one.stderr]).toEqual([
          2,
          "okta-connections: --file: id, authScheme, status, _links: what get prints, not an update body, which has baseUrl and profile only (to enable, --activate)\n"
        ])
        // The get's read, and nothing after it.
        expect((yield* sim.requests).slice(before).map((r) => r.method)).toEqual(["GET"])
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "update --file - reads the body from standard input; a file that cannot be read or is empty is said as such",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const body = "baseUrl: https://stdin.example.com/scim\nprofile:\n  authScheme: TOKEN\n"
        const piped = yield* cli(
          ["update", ZSCALER, "--file", "-", "--secret-env", "T"],
          { ...env, T: "00stdin-token" },
          body
        )
        expect(piped.code).toBe(0)
        expect((yield* sim.inspect(ZSCALER)).connection).toMatchObject({
          baseUrl: "https://stdin.example.com/scim",
          token: "00stdin-token"
        })
        const before = (yield* sim.requests).length
        const refusals = [
          [
            ["--file", "-", "--secret-stdin"],
            body,
            "--file - and --secret-stdin both read standard input: give the secret with --secret-env or --secret-file"
          ],
          [
            ["--file", "-", "--secret-file", "-"],
            body,
            "--file - and --secret-file - both read standard input"
          ],
          [["--file", "-"], "", "--file: standard input is empty"],
          [["--file", join(tempDir("work-"), "nope.yaml")], "", "nope.yaml (no such file)"]
        ] as const
        for (const [args, stdin, said] of refusals) {
          const run = yield* cli(["update", ZSCALER, ...args], env, stdin)
          expect([run.code, run.stderr]).toEqual([2, expect.stringContaining(said)])
        }
        expect((yield* sim.requests).length).toBe(before)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "update --file takes Okta's own examples as they are, authScheme OAUTH included",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const dir = tempDir("work-")
        // ProvisioningConnectionOAuthOrg2OrgWithRotationRequestEx, copied from the contract.
        const org2org = join(dir, "org2org.yaml")
        writeFileSync(
          org2org,
          "profile:\n  authScheme: OAUTH\n  clientId: 0oa2h6su6bVFyJzIf1d7\n  signing:\n    rotationMode: AUTO\n"
        )
        const updated = yield* cli(["update", ORG2ORG_OAUTH, "--file", org2org], env)
        expect(updated.code).toBe(0)
        expect((yield* sim.inspect(ORG2ORG_OAUTH)).connection).toMatchObject({
          authScheme: "OAUTH2",
          clientId: "0oa2h6su6bVFyJzIf1d7",
          rotationMode: "AUTO"
        })
        // Spelt so, the body file takes the admin password given apart, as with OAUTH2.
        const office = join(dir, "office365.yaml")
        writeFileSync(
          office,
          "profile:\n  authScheme: OAUTH\n  settings:\n    adminUsername: admin@contoso.com\n"
        )
        const withPassword = yield* cli(
          ["update", OFFICE365, "--file", office, "--secret-env", "O365_PASSWORD"],
          { ...env, O365_PASSWORD: "office-admin-password" }
        )
        expect(withPassword.code).toBe(0)
        expect((yield* sim.inspect(OFFICE365)).connection).toMatchObject({
          authScheme: "OAUTH2",
          adminUsername: "admin@contoso.com"
        })
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "update refuses a secret or body it cannot send as meant (exit 2), before any call",
    () =>
      Effect.gen(function* () {
        const { env, sim } = yield* org
        const dir = tempDir("work-")
        const file = (name: string, text: string) => {
          writeFileSync(join(dir, name), text)
          return join(dir, name)
        }
        const token = ["update", ORG2ORG, "--auth-scheme", "TOKEN"]
        const secretFrom = ["--secret-env", "SECRET"]
        const sent = (yield* sim.requests).length
        const cases: ReadonlyArray<
          readonly [ReadonlyArray<string>, string, Record<string, string>?]
        > = [
          [[...token, ...secretFrom, "--secret-stdin"], "give the secret one way"],
          // Set but empty, as an unset variable is in some CI systems.
          [[...token, ...secretFrom], "the environment variable SECRET is empty", { SECRET: "" }],
          [[...token, "--secret-env", "NOT_SET_ANYWHERE"], "NOT_SET_ANYWHERE is not set"],
          [
            [...token, "--secret-file", join(dir, "missing.txt")],
            `cannot read the secret from ${join(dir, "missing.txt")} (no such file)`
          ],
          [["update", ORG2ORG], "give --file or --auth-scheme"],
          [
            [
              "update",
              ORG2ORG,
              "--file",
              file("no-profile.yaml", "baseUrl: https://x.example\n"),
              ...secretFrom
            ],
            "the body file needs a profile to take the secret"
          ],
          [
            [
              "update",
              OFFICE365,
              "--file",
              file(
                "with-password.yaml",
                "profile:\n  authScheme: OAUTH2\n  settings:\n    adminUsername: a\n    adminPassword: p\n"
              ),
              ...secretFrom
            ],
            "the body file has an admin password already"
          ],
          [
            [
              "update",
              ORG2ORG,
              "--file",
              file("saml.yaml", "profile:\n  authScheme: SAML\n"),
              ...secretFrom
            ],
            'profile.authScheme must be TOKEN or OAUTH2 to take the secret (it has "SAML")'
          ],
          [
            [
              "update",
              ORG2ORG,
              "--file",
              file("lower.yaml", "profile:\n  authScheme: token\n"),
              ...secretFrom
            ],
            "profile.authScheme must be TOKEN or OAUTH2 to take the secret (in capitals: TOKEN)"
          ],
          [
            [
              "update",
              ORG2ORG,
              "--file",
              file("token.yaml", "profile:\n  authScheme: TOKEN\n"),
              "--admin-username",
              "admin"
            ],
            "--file is the whole body"
          ]
        ]
        for (const [args, message, extra] of cases) {
          const run = yield* cli(args, { ...env, SECRET: "00secret-from-env", ...extra })
          expect([run.code, run.stderr]).toEqual([2, expect.stringContaining(message)])
          expect(run.stdout + run.stderr).not.toContain("00secret-from-env")
        }
        expect((yield* sim.requests).length).toBe(sent)
      }).pipe(Effect.scoped),
    30_000
  )

  it("progress says a rate-limit wait once, and drops it when it is over rather than say 0.0 s", () => {
    // Standard error not a terminal (plain lines), and a clock the test moves.
    let now = 0
    const lines: Array<string> = []
    const progress = new Progress(4, {
      write: (text) => lines.push(text),
      tty: false,
      now: () => now,
      later: () => expect.unreachable("only a terminal's line counts down")
    })
    progress.tick("succeeded")
    // Three calls the same window holds, each told its wait a few milliseconds apart.
    progress.waiting(1_971)
    now = 6
    progress.waiting(1_974)
    now = 11
    progress.waiting(1_973)
    progress.tick("succeeded")
    // Released by the gate a few milliseconds before the progress line's clock says the wait ends.
    now = 1_960
    progress.tick("succeeded")
    // A second window, later.
    progress.waiting(3_000)
    now = 5_000
    progress.tick("succeeded")
    expect(lines).toEqual([
      "[1/4] 0 failed\n",
      "waiting 2.0 s for Okta's rate-limit window\n",
      "[2/4] 0 failed · waiting 2.0 s for Okta's rate-limit window\n",
      "[3/4] 0 failed\n",
      "waiting 3.0 s for Okta's rate-limit window\n",
      "[4/4] 0 failed\n"
    ])
  })

  it("on a terminal, the progress line counts a rate-limit wait down, and drops it at the end", () => {
    let now = 0
    let line = ""
    const pending: Array<{ at: number; f: () => void }> = []
    const progress = new Progress(3, {
      write: (text) => (line = text),
      tty: true,
      now: () => now,
      later: (millis, f) => pending.push({ at: now + millis, f })
    })
    const seen: Array<string> = []
    const runPending = () => {
      for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
        now = next.at
        next.f()
        seen.push(line)
      }
    }
    progress.tick("succeeded")
    progress.waiting(600)
    seen.push(line)
    // A second call held for the same window: one countdown, not two.
    progress.waiting(610)
    expect(pending).toHaveLength(1)
    runPending()
    progress.tick("succeeded")
    progress.tick("failed")
    seen.push(line)
    expect(seen).toEqual([
      "\r\x1b[2K[1/3] 0 failed · waiting 0.6 s for Okta's rate-limit window",
      "\r\x1b[2K[1/3] 0 failed · waiting 0.4 s for Okta's rate-limit window",
      "\r\x1b[2K[1/3] 0 failed · waiting 0.1 s for Okta's rate-limit window",
      "\r\x1b[2K[1/3] 0 failed",
      "\r\x1b[2K[3/3] 1 failed\n"
    ])
  })

  it("on a terminal, a line of other output takes the progress line's place, which is drawn below it", () => {
    // What a terminal shows of standard error and standard output written in turn.
    let screen = ""
    const progress = new Progress(2, {
      write: (text) => (screen += text),
      tty: true,
      now: () => 0,
      later: () => undefined
    })
    const print = (line: string) => () => void (screen += line)
    // Nothing drawn yet: the line is written as it is.
    progress.aside(print("okta: held\n"))
    progress.tick("succeeded")
    // A log line while the progress line is up: it goes where the progress line was.
    progress.aside(print("okta: GET → 200\n"))
    // An app's result (forEachApp lifts the line, prints, then ticks).
    progress.lift()
    screen += "0oa2: activated\n"
    progress.tick("succeeded")
    const clear = "\r\x1b[2K"
    expect(screen).toBe(
      `okta: held\n${clear}[1/2] 0 failed${clear}okta: GET → 200\n${clear}[1/2] 0 failed${clear}0oa2: activated\n${clear}[2/2] 0 failed\n`
    )
  })

  it.live(
    "one app: a wait for Okta's rate-limit window is said on a line of its own",
    () =>
      Effect.gen(function* () {
        const { url } = yield* serve()
        const env = { OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: TOKEN }
        // The first run spends the window; the second one's call draws a 429 and waits for the
        // reset, seconds away, which no progress line says for a single app.
        expect((yield* cli(["get", ZSCALER], env)).code).toBe(0)
        const run = yield* cli(["get", ZSCALER], env)
        expect(run.code).toBe(0)
        expect(run.stderr).toMatch(
          /^okta-connections: waiting \d+\.\d s for Okta's rate-limit window\n$/
        )
      }).pipe(
        Effect.provide(
          OktaSimulator.layer({
            tokens: [{ token: TOKEN }],
            rateLimit: { limit: 1, windowSeconds: 6 },
            // The simulator's windows start on whole multiples of their length: the org's clock
            // is set a little past the start of one, so that both runs fall in it.
            clockOffsetMillis: 6_000 - (Date.now() % 6_000) + 50
          })
        ),
        Effect.scoped
      ),
    30_000
  )

  it.live(
    "work over several apps shows progress and Okta's rate-limit waits; --verbose the gate's log",
    () =>
      Effect.gen(function* () {
        const { url } = yield* serve()
        const env = { OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: TOKEN }
        const ids = [ZSCALER, ORG2ORG, "0oasimorg2orgoauth01", "0oasimbookmark000001"]
        const run = yield* cli(["--verbose", "--concurrency", "2", "get", ...ids, "--ndjson"], env)
        expect(run.code).toBe(0)
        expect(run.stdout.trim().split("\n")).toHaveLength(4)
        // Standard error is not a terminal here: plain lines.
        expect(run.stderr).toMatch(/waiting \d+\.\d s for Okta's rate-limit window/)
        expect(run.stderr).toContain("[4/4] 0 failed")
        expect(run.stderr).toContain("okta: Okta call held at the rate-limit gate")
        // Each answer with its request id.
        expect(run.stderr).toMatch(
          new RegExp(
            `okta: GET /api/v1/apps/${ZSCALER}/connections/default → 200 \\(request id (?!none\\))\\S+\\)`
          )
        )
        expect(run.stderr).not.toContain(TOKEN)
      }).pipe(
        Effect.provide(
          OktaSimulator.layer({
            tokens: [{ token: TOKEN }],
            rateLimit: { limit: 2, windowSeconds: 1 }
          })
        ),
        Effect.scoped
      ),
    30_000
  )

  it.live(
    "Ctrl-C stops the calls in flight and says what was done and what was not (exit 130)",
    () =>
      Effect.gen(function* () {
        const { url } = yield* serve()
        const sim = yield* OktaSimulator
        // The first call is answered (it opens the client's gate, which sends one request until
        // Okta's first answer); every later one hangs. The simulator logs each as it arrives.
        yield* sim.injectFault({ _tag: "Delay", millis: 1 }, { times: 1 })
        yield* sim.injectFault({ _tag: "Hang" }, { times: 16 })
        const ids = generatedApps(17).map((app) => app.id)
        const { child, output } = spawnCli(["get", ...ids], url)
        // Interrupt once the calls are in flight: five after the first, the default concurrency
        // (the others wait for one of them to end, which none does).
        yield* Effect.repeat(
          Effect.flatMap(sim.requests, (log) =>
            log.length >= 6 ? Effect.succeed(true) : Effect.as(Effect.sleep("20 millis"), false)
          ),
          { until: (seen) => seen, times: 500 }
        )
        expect(yield* exitAfter(child, () => child.kill("SIGINT"))).toBe(130)
        expect((yield* sim.requests).length).toBe(6)
        // The calls stopped in flight, and the first ten not started, then "…"; a read changes
        // nothing, so nothing more is said.
        expect(output.stderr).toMatch(
          /\ninterrupted: 1 succeeded, 0 failed, 5 stopped in flight \((\S+, ){4}\S+\), 11 not started \((\S+, ){10}…\)\n$/
        )
      }).pipe(
        Effect.provide(
          OktaSimulator.layer({ apps: generatedApps(17), tokens: [{ token: TOKEN }] })
        ),
        Effect.scoped
      ),
    30_000
  )

  it.live(
    "--timeout bounds each attempt and --deadline the call, in seconds (a fraction too)",
    () =>
      Effect.gen(function* () {
        const { url } = yield* serve()
        const sim = yield* OktaSimulator
        yield* sim.injectFault({ _tag: "Hang" }, { times: 10 })
        const env = { OKTA_CLIENT_ORGURL: url, OKTA_CLIENT_TOKEN: TOKEN }
        const run = yield* cli(["--timeout", "0.5", "--deadline", "2.5", "get", ZSCALER], env)
        expect(run.code).toBe(1)
        expect(run.stderr).toContain("OktaTimeoutError")
        // It ran out, or a backoff would have passed it.
        expect(run.stderr).toMatch(/(did|would) not complete within its 2500 ms deadline/)
        expect(run.stderr).toContain("an attempt took longer than its 500 ms timeout")
        // Said once, as the first retry begins: a terminal is not silent while attempts time out.
        expect(run.stderr.match(/no answer from Okta/g)).toEqual(["no answer from Okta"])
        expect(run.stderr).toContain(
          "okta-connections: no answer from Okta within 0.5 s; trying again (--timeout sets how long an attempt waits, --verbose shows each retry)\n"
        )
      }).pipe(Effect.provide(OktaSimulator.layer({ tokens: [{ token: TOKEN }] })), Effect.scoped),
    30_000
  )

  it.live(
    "a warning of the client reaches standard error without --verbose; its debug lines do not",
    () =>
      Effect.gen(function* () {
        // A proxy or a broken server: a window reset an hour ahead, which the gate does not believe.
        const { url } = yield* loopbackServer((_req, res) => {
          res.setHeader("content-type", "application/json")
          res.setHeader("x-rate-limit-limit", "100")
          res.setHeader("x-rate-limit-remaining", "99")
          res.setHeader("x-rate-limit-reset", String(Math.floor(Date.now() / 1000) + 3600))
          res.end(JSON.stringify({ status: "ENABLED", profile: { authScheme: "TOKEN" } }))
        })
        const run = yield* cli(["get", ZSCALER], {
          OKTA_CLIENT_ORGURL: url,
          OKTA_CLIENT_TOKEN: TOKEN
        })
        expect(run.code).toBe(0)
        expect(run.stderr).toContain(
          "okta: Okta rate-limit state: ignored an implausible x-rate-limit-reset header"
        )
        expect(run.stderr).not.toContain(" → 200 (request id")
      }).pipe(Effect.scoped),
    30_000
  )

  it.live(
    "a reader that goes away (| head -1) stops the run: exit 141, no stack trace",
    () =>
      Effect.gen(function* () {
        const { url } = yield* serve()
        const sim = yield* OktaSimulator
        // The first app answers at once, the second a little later, the third never.
        yield* sim.injectFault(
          { _tag: "Delay", millis: 300 },
          { path: new RegExp(`/apps/${ORG2ORG}/`) }
        )
        yield* sim.injectFault({ _tag: "Hang" }, { path: /\/apps\/0oasimorg2orgoauth01\// })
        const { child, output } = spawnCli(
          ["get", ZSCALER, ORG2ORG, "0oasimorg2orgoauth01", "--ndjson"],
          url
        )
        // The first line read, the reader goes away: the second app's line meets a closed pipe.
        const code = yield* exitAfter(child, () =>
          child.stdout.once("data", () => child.stdout.destroy())
        )
        expect(code).toBe(141)
        expect(output.stderr).not.toContain("EPIPE")
        expect(output.stderr).toMatch(
          /interrupted: 2 succeeded, 0 failed, 1 stopped in flight \(0oasimorg2orgoauth01\)\n/
        )
      }).pipe(Effect.provide(OktaSimulator.layer({ tokens: [{ token: TOKEN }] })), Effect.scoped),
    30_000
  )

  // The ids as arguments, or on standard input ("-").
  const streamed: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
    ["get", [ZSCALER, ORG2ORG, "--ndjson"], ""],
    ["activate", ["-"], `${ZSCALER}\n${ORG2ORG}\n`]
  ]

  it.live.each(streamed)(
    "%s prints each app as its call ends: what a run did is on its output when it is stopped",
    ([command, args, stdin]) =>
      Effect.gen(function* () {
        const { url } = yield* serve()
        const sim = yield* OktaSimulator
        // The second app's call hangs; the first one's answer comes at once.
        yield* sim.injectFault({ _tag: "Hang" }, { path: new RegExp(`/apps/${ORG2ORG}/`) })
        const { child, output } = spawnCli([command, ...args], url, stdin)
        yield* until(() => output.stdout.includes("\n"))
        const code = yield* exitAfter(child, () => child.kill("SIGINT"))
        expect(code).toBe(130)
        const lines = output.stdout.trim().split("\n")
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain(ZSCALER)
        expect(output.stderr).toContain(
          `interrupted: 1 succeeded, 0 failed, 1 stopped in flight (${ORG2ORG})\n`
        )
        // An activation stopped in flight may have reached Okta: said, with where to look.
        expect(output.stderr.includes("may have reached Okta before its answer")).toBe(
          command === "activate"
        )
      }).pipe(Effect.provide(OktaSimulator.layer({ tokens: [{ token: TOKEN }] })), Effect.scoped),
    30_000
  )
})
