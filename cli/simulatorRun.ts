/**
 * The standalone simulator, `okta-connections simulator` (and `npm run simulator`): a loopback Okta
 * org that prints one JSON line (`{"url","token","apps":[{"id","name"}…]}`, with `"oauthClients"`
 * if any) for scripts, then one line per request.
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { randomBytes } from "node:crypto"
import {
  DEFAULT_APPS,
  generatedApps,
  type LoggedRequest,
  OktaSimulator,
  serve,
  type SimulatedOAuthClient
} from "effect-okta-connections/testing"
import type { FaultSpec } from "./faultSpec.js"

export interface SimulatorSettings {
  readonly port?: number | undefined
  readonly token?: string | undefined
  readonly limit?: number | undefined
  readonly windowSeconds?: number | undefined
  readonly concurrencyLimit?: number | undefined
  /** How long each request holds its concurrency slot before it is answered (default 0). */
  readonly latencyMillis?: number | undefined
  readonly batchApps?: number | undefined
  readonly contentLength?: boolean | undefined
  /** Faults armed before the first request is read, in order (`--fault`). */
  readonly faults?: ReadonlyArray<FaultSpec> | undefined
  /** Service apps its authorization server accepts (`--oauth-client`). */
  readonly oauthClients?: ReadonlyArray<SimulatedOAuthClient> | undefined
}

const describeRequest = (entry: LoggedRequest) => {
  // The verify callback's code and state are one-time secrets: never echo them.
  const query = Object.entries(entry.query)
    .map(
      ([key, value]) =>
        `${key}=${key === "code" || key === "state" ? "…" : encodeURIComponent(value)}`
    )
    .join("&")
  // A fault armed with --fault is named, so that it is not taken for the org's own answer.
  const fault = entry.fault !== undefined ? ` (${entry.fault} fault)` : ""
  return `${new Date().toISOString()} ${entry.method} ${entry.path}${query !== "" ? `?${query}` : ""} → ${entry.outcome}${fault}`
}

/** Serves until interrupted. */
export const runSimulator = (settings: SimulatorSettings) => {
  const token =
    settings.token !== undefined && settings.token.length > 0
      ? settings.token
      : `00sim${randomBytes(18).toString("base64url")}`
  const batchApps = settings.batchApps ?? 0
  const apps = [...DEFAULT_APPS, ...generatedApps(batchApps)]
  const { limit, windowSeconds, concurrencyLimit, latencyMillis = 0 } = settings
  return Effect.gen(function* () {
    const sim = yield* OktaSimulator
    for (const { fault, options } of settings.faults ?? []) yield* sim.injectFault(fault, options)
    const { url } = yield* serve(settings.port !== undefined ? { port: settings.port } : {})
    // A script that started it with --oauth-client finds the service apps' ids here too.
    const oauthClients = (settings.oauthClients ?? []).map(({ clientId }) => clientId)
    yield* Console.log(
      JSON.stringify({
        url,
        token,
        apps: apps.map(({ id, name }) => ({ id, name })),
        ...(oauthClients.length > 0 ? { oauthClients } : {})
      })
    )
    yield* Console.log(`Okta simulator listening on ${url}`)
    yield* Console.log(`  token: SSWS ${token}`)
    yield* Console.log(
      `  rate limit: ${limit ?? 50} per ${windowSeconds ?? 60} s, ${concurrencyLimit ?? 15} in flight`
    )
    if (latencyMillis > 0) yield* Console.log(`  latency: ${latencyMillis} ms a request`)
    for (const { text } of settings.faults ?? []) yield* Console.log(`  fault armed: ${text}`)
    for (const { clientId } of settings.oauthClients ?? []) {
      yield* Console.log(`  OAuth 2.0 service app: ${clientId} (token endpoint /oauth2/v1/token)`)
    }
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
        oauthClients: settings.oauthClients ?? [],
        rateLimit: { limit, windowSeconds, concurrencyLimit },
        // Without it every request is answered before the next is read, and the concurrency
        // limit never refuses one.
        latencyMillis,
        contentLength: settings.contentLength === true,
        onRequest: (entry) => Console.log(describeRequest(entry))
      })
    )
  )
}
