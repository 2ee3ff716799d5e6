/**
 * The standalone simulator, shared by `npm run simulator` (scripts/simulator.ts) and
 * `okta-connections simulator`: a loopback Okta org that prints one JSON line
 * (`{"url","token","apps":[{"id","name"}…]}`) for scripts, then one line per request.
 */
import { Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import { randomBytes } from "node:crypto"
import {
  DEFAULT_APPS,
  generatedApps,
  type LoggedRequest,
  OktaSimulator,
  serve
} from "effect-okta-connections/testing"

export interface SimulatorSettings {
  readonly port?: number | undefined
  readonly token?: string | undefined
  readonly limit?: number | undefined
  readonly windowSeconds?: number | undefined
  readonly concurrencyLimit?: number | undefined
  readonly batchApps?: number | undefined
  readonly contentLength?: boolean | undefined
}

const describeRequest = (entry: LoggedRequest) => {
  // The verify callback's code and state are one-time secrets: never echo them.
  const query = Object.entries(entry.query)
    .map(
      ([key, value]) =>
        `${key}=${key === "code" || key === "state" ? "…" : encodeURIComponent(value)}`
    )
    .join("&")
  return `${new Date().toISOString()} ${entry.method} ${entry.path}${query !== "" ? `?${query}` : ""} → ${entry.outcome}`
}

/** Serves until interrupted. */
export const runSimulator = (settings: SimulatorSettings) => {
  const token =
    settings.token !== undefined && settings.token.length > 0
      ? settings.token
      : `00sim${randomBytes(18).toString("base64url")}`
  const batchApps = settings.batchApps ?? 0
  const apps = [...DEFAULT_APPS, ...generatedApps(batchApps)]
  const { limit, windowSeconds, concurrencyLimit } = settings
  return Effect.gen(function* () {
    const { url } = yield* serve(settings.port !== undefined ? { port: settings.port } : {})
    yield* Console.log(
      JSON.stringify({ url, token, apps: apps.map(({ id, name }) => ({ id, name })) })
    )
    yield* Console.log(`Okta simulator listening on ${url}`)
    yield* Console.log(`  token: SSWS ${token}`)
    yield* Console.log(
      `  rate limit: ${limit ?? 50} per ${windowSeconds ?? 60} s, ${concurrencyLimit ?? 15} in flight`
    )
    for (const app of DEFAULT_APPS) {
      yield* Console.log(`  ${app.id}  ${app.name.padEnd(13)} ${app.label ?? ""}`)
    }
    if (batchApps > 0) yield* Console.log(`  + ${batchApps} generated Zscaler apps 0oasimbatch…`)
    yield* Console.log(
      `  try: curl -H "Authorization: SSWS ${token}" ${url}/api/v1/apps/${DEFAULT_APPS[0]!.id}/connections/default`
    )
    return yield* Effect.never
  }).pipe(
    Effect.scoped,
    Effect.provide(
      OktaSimulator.layer({
        apps,
        tokens: [{ token }],
        rateLimit: { limit, windowSeconds, concurrencyLimit },
        contentLength: settings.contentLength === true,
        onRequest: (entry) => Console.log(describeRequest(entry))
      })
    )
  )
}

const optionalInteger = (name: string, description: string) =>
  Options.integer(name).pipe(Options.withDescription(description), Options.optional)

/** `okta-connections simulator`, with the options of `npm run simulator`. */
export const simulatorCommand = Command.make(
  "simulator",
  {
    port: optionalInteger("port", "the port (default: a free one)"),
    token: Options.text("token").pipe(
      Options.withDescription("the SSWS token it accepts (default: random)"),
      Options.optional
    ),
    limit: optionalInteger("rate-limit", "requests per window (default 50)"),
    windowSeconds: optionalInteger("window-seconds", "the window (default 60)"),
    concurrencyLimit: optionalInteger("concurrency-limit", "requests in flight (default 15)"),
    batchApps: optionalInteger("batch-apps", "extra generated apps"),
    contentLength: Options.boolean("content-length").pipe(
      Options.withDescription("declare every body's length instead of Okta's chunked bodies")
    )
  },
  (options) =>
    runSimulator({
      port: Option.getOrUndefined(options.port),
      token: Option.getOrUndefined(options.token),
      limit: Option.getOrUndefined(options.limit),
      windowSeconds: Option.getOrUndefined(options.windowSeconds),
      concurrencyLimit: Option.getOrUndefined(options.concurrencyLimit),
      batchApps: Option.getOrUndefined(options.batchApps),
      contentLength: options.contentLength
    })
).pipe(Command.withDescription("a local Okta org on a loopback port, to try every command"))
