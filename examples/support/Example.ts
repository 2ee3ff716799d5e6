/**
 * What every example needs besides the client: which app ids to use, how an admin's consent is
 * obtained, and whether writes are allowed. On the embedded simulator all of that is automatic;
 * against a real org it comes from the environment (see "Examples" in the README).
 */
import { FetchHttpClient, HttpClient } from "@effect/platform"
import { Console, Context, Data, Effect, Layer } from "effect"
import { resolve } from "node:path"
import { createInterface } from "node:readline/promises"
import { pathToFileURL } from "node:url"
import {
  ApplicationConnections,
  OktaClient,
  type OktaCredentials,
  type OAuthProvisioningEnabledApp
} from "effect-okta-connections"
import {
  DEFAULT_APPS,
  generatedApps,
  OktaSimulator,
  type SimulatedOAuthClient,
  SimulatorServer
} from "effect-okta-connections/testing"

/** The kinds of app the examples work on. */
export type Role =
  "zscaler" | "org2orgToken" | "org2orgOAuth" | "bookmark" | OAuthProvisioningEnabledApp

export class ExampleError extends Data.TaggedError("ExampleError")<{ readonly message: string }> {}

export interface ExampleService {
  /** Where the examples run: the embedded simulator, or a real org. */
  readonly target: "simulator" | "okta"
  readonly describeTarget: string
  readonly appId: (role: Role) => Effect.Effect<string, ExampleError>
  /** App ids for the batch example. */
  readonly batchAppIds: Effect.Effect<ReadonlyArray<string>, ExampleError>
  /** Fails unless the target may be changed (always on the simulator; on an org, OKTA_EXAMPLES_WRITE=1). */
  readonly allowWrites: Effect.Effect<void, ExampleError>
  /**
   * The admin's consent: open the authorize link, consent, and come back with the `code` and
   * `state` of Okta's `continue_oauth_flow_url`.
   */
  readonly consent: (
    authorizeHref: string
  ) => Effect.Effect<{ code: string; state: string }, ExampleError>
}

export class Example extends Context.Tag("examples/Example")<Example, ExampleService>() {}

const SIMULATOR_ROLES: Record<Role, string> = {
  zscaler: "0oasimzscaler0000001",
  org2orgToken: "0oasimorg2orgtoken01",
  org2orgOAuth: "0oasimorg2orgoauth01",
  bookmark: "0oasimbookmark000001",
  office365: "0oasimoffice36500001",
  google: "0oasimgoogle00000001",
  slack: "0oasimslack000000001",
  zoomus: "0oasimzoomus00000001"
}

/** What each kind is in an org, so that OKTA_APP_ID names an app the example's writes suit. */
const ROLE_NAMES: Record<Role, string> = {
  zscaler: "a Zscaler 2.0 app (zscalerbyz)",
  org2orgToken: "an Okta Org2Org app (okta_org2org)",
  org2orgOAuth: "an Okta Org2Org app (okta_org2org) with an OAuth 2.0 connection",
  bookmark: "a Bookmark app (bookmark)",
  office365: "a Microsoft Office 365 app (office365)",
  google: "a Google Workspace app (google)",
  slack: "a Slack app (slack)",
  zoomus: "a Zoom app (zoomus)"
}

/** The `code` and `state` of Okta's `continue_oauth_flow_url`. */
export const codeAndState = (continueUrl: string) =>
  Effect.try({
    try: () => {
      const url = new URL(continueUrl.trim())
      const code = url.searchParams.get("code")
      const state = url.searchParams.get("state")
      if (code === null || state === null) throw new Error("no code/state in the URL")
      return { code, state }
    },
    // A code without its state: `OKTA_CONTINUE_URL=…?code=…&state=…` unquoted ends the command
    // at the "&" in a shell.
    catch: () =>
      new ExampleError({
        message: `that is not a continue_oauth_flow_url with code and state${/[?&]code=/.test(continueUrl) ? " (it has a code but no state: quote the URL, '…', or a shell cuts it at its &)" : ""}`
      })
  })

/**
 * The OAuth 2.0 app kind named by OKTA_APP_NAME (default office365), checked: it becomes a path
 * segment of the verify call.
 */
export const appNameFromEnv: Effect.Effect<OAuthProvisioningEnabledApp, ExampleError> =
  Effect.suspend(() => {
    const name = (process.env["OKTA_APP_NAME"] ?? "office365").trim()
    const known: ReadonlyArray<string> = ["office365", "google", "slack", "zoomus"]
    return known.includes(name)
      ? Effect.succeed(name as OAuthProvisioningEnabledApp)
      : Effect.fail(
          new ExampleError({
            message: `OKTA_APP_NAME must be one of ${known.join(", ")} (got ${name})`
          })
        )
  })

/** Apps the batch example reads on the simulator. */
export const BATCH_SIZE = 120

/** Everything on the embedded simulator, over a real loopback socket. */
export const SimulatorTarget = (
  options: {
    readonly rateLimit?: { readonly limit: number; readonly windowSeconds: number }
    /** Service apps the simulated org accepts, and the client's credentials. */
    readonly oauthClients?: ReadonlyArray<SimulatedOAuthClient>
    readonly credentials?: OktaCredentials
  } = {}
): Layer.Layer<Example | ApplicationConnections | OktaClient | OktaSimulator | SimulatorServer> => {
  const example = Layer.effect(
    Example,
    Effect.gen(function* () {
      const server = yield* SimulatorServer
      const http = yield* HttpClient.HttpClient
      return Example.of({
        target: "simulator",
        describeTarget: `the embedded Okta simulator at ${server.url}`,
        appId: (role) => Effect.succeed(SIMULATOR_ROLES[role]),
        batchAppIds: Effect.succeed(generatedApps(BATCH_SIZE).map((app) => app.id)),
        allowWrites: Effect.void,
        // The simulator's authorize link stands for the third party's consent page: "opening" it
        // consents and answers with Okta's continue URL, as the browser would be redirected to.
        consent: (href) =>
          http.get(href).pipe(
            Effect.flatMap((response) => response.json),
            Effect.flatMap((body) =>
              codeAndState(
                (body as { continue_oauth_flow_url?: string }).continue_oauth_flow_url ?? ""
              )
            ),
            Effect.catchTag("RequestError", "ResponseError", (e) =>
              Effect.fail(new ExampleError({ message: `consent page: ${e.message}` }))
            )
          )
      })
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))
  return example.pipe(
    Layer.provideMerge(
      OktaSimulator.layerConnectionsServer({
        apps: [...DEFAULT_APPS, ...generatedApps(BATCH_SIZE)],
        rateLimit: options.rateLimit ?? { limit: 40, windowSeconds: 1 },
        ...(options.oauthClients !== undefined ? { oauthClients: options.oauthClients } : {}),
        ...(options.credentials !== undefined ? { credentials: options.credentials } : {})
      })
    ),
    Layer.orDie
  )
}

const env = (name: string) => {
  const value = process.env[name]
  return value !== undefined && value.trim() !== "" ? value.trim() : undefined
}

/**
 * What an example writes, from the variables named, each with the placeholder the simulator is
 * sent in its place. A real org is never sent a placeholder: it would replace a working
 * configuration (a token, a base URL) with one that does not work.
 */
export const settingsFromEnv = <K extends string>(placeholders: Record<K, string>) =>
  Effect.gen(function* () {
    const example = yield* Example
    const names = Object.keys(placeholders) as Array<K>
    const missing = names.filter((name) => env(name) === undefined)
    if (example.target === "okta" && missing.length > 0) {
      return yield* new ExampleError({
        message: `set ${missing.join(" and ")}: on an org this example sends what you give it (its placeholders are sent to the simulator only)`
      })
    }
    return Object.fromEntries(
      names.map((name) => [name, env(name) ?? placeholders[name]])
    ) as Record<K, string>
  })

/** A real org from OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN. */
export const OktaTarget: Layer.Layer<Example | ApplicationConnections | OktaClient> =
  Layer.mergeAll(
    Layer.succeed(
      Example,
      Example.of({
        target: "okta",
        describeTarget: `the Okta org ${env("OKTA_CLIENT_ORGURL")}`,
        appId: (role) => {
          const id = env("OKTA_APP_ID")
          return id !== undefined
            ? Effect.succeed(id)
            : Effect.fail(
                new ExampleError({
                  message: `set OKTA_APP_ID to the id of ${ROLE_NAMES[role]} of your org`
                })
              )
        },
        batchAppIds: Effect.suspend(() => {
          const ids = env("OKTA_APP_IDS")
            ?.split(",")
            .map((id) => id.trim())
            .filter((id) => id !== "")
          return ids !== undefined && ids.length > 0
            ? Effect.succeed(ids)
            : Effect.fail(
                new ExampleError({
                  message: "set OKTA_APP_IDS to a comma-separated list of app ids"
                })
              )
        }),
        allowWrites:
          env("OKTA_EXAMPLES_WRITE") === "1"
            ? Effect.void
            : Effect.fail(
                new ExampleError({
                  message:
                    "this example changes your org's provisioning configuration: set OKTA_EXAMPLES_WRITE=1 to allow it"
                })
              ),
        consent: (href) =>
          Effect.gen(function* () {
            // Without a terminal nobody can paste the answer: say so and stop (exit 1), with the
            // whole URL, so that the consent can still be given and verified in a second run.
            if (process.stdin.isTTY !== true) {
              return yield* new ExampleError({
                message: `the consent step needs a terminal to paste Okta's continue_oauth_flow_url into (standard input is not one). Consent in a browser at ${href} and rerun examples/verify-connection.ts with OKTA_CONTINUE_URL set to the URL Okta continues to`
              })
            }
            yield* Console.log(`   Open this URL in a browser and consent:\n   ${href}`)
            const answer = yield* Effect.tryPromise({
              try: async () => {
                const rl = createInterface({ input: process.stdin, output: process.stdout })
                try {
                  return await rl.question("   Then paste the continue_oauth_flow_url Okta shows: ")
                } finally {
                  rl.close()
                }
              },
              catch: () => new ExampleError({ message: "no answer on standard input" })
            })
            return yield* codeAndState(answer)
          })
      })
    ),
    ApplicationConnections.layer.pipe(Layer.provideMerge(OktaClient.layerConfig()))
  ).pipe(Layer.provide(FetchHttpClient.layer), Layer.orDie)

/** The simulator by default; a real org when OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN are set. */
export const targetFromEnv = (simulator = SimulatorTarget()) =>
  env("OKTA_CLIENT_ORGURL") !== undefined &&
  (env("OKTA_CLIENT_TOKEN") !== undefined || env("OKTA_CLIENT_AUTHORIZATIONMODE") !== undefined)
    ? OktaTarget
    : simulator

/**
 * Runs an example as a script: on the target the environment selects, printing a typed failure
 * by its message and exiting 1 on failure.
 */
export const runMain = <E extends { readonly message: string }>(
  program: Effect.Effect<void, E, Example | ApplicationConnections>,
  simulator?: ReturnType<typeof SimulatorTarget>
): void => {
  const main = Effect.gen(function* () {
    const example = yield* Example
    yield* Console.log(`(running on ${example.describeTarget})\n`)
    yield* program
  }).pipe(Effect.scoped, Effect.provide(targetFromEnv(simulator)))
  Effect.runPromiseExit(main).then((exit) => {
    if (exit._tag === "Failure") {
      const failure = exit.cause._tag === "Fail" ? exit.cause.error.message : String(exit.cause)
      console.error(`failed: ${failure}`)
      process.exitCode = 1
    }
  })
}

/** True when this module is the script node was started with. */
export const isMain = (moduleUrl: string) =>
  process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === moduleUrl
