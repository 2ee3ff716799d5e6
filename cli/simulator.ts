/**
 * `okta-connections simulator`, which `npm run simulator` runs too. The simulator itself
 * (cli/simulatorRun.ts) is loaded only when this command runs: the other commands start without it.
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { FAULT_SPEC_HELP, parseFaultSpec } from "./faultSpec.js"
import { OAUTH_CLIENT_SPEC_HELP, parseOAuthClientSpec } from "./oauthClientSpec.js"
import { UsageError, wholeNumber } from "./shared.js"

/** An integer of at least `min` (a limit of 0 admits nothing). */
const optionalInteger = (name: string, description: string, min: number) =>
  wholeNumber(name, min).pipe(Options.withDescription(description), Options.optional)

/** A repeatable option, each value read by `parse`: one it refuses is a usage error, its reason. */
const repeatedSpec = <A>(
  name: string,
  description: string,
  parse: (text: string) => Either.Either<A, string>
) =>
  Options.text(name).pipe(
    Options.withDescription(`${description} (repeatable)`),
    Options.repeated,
    Options.mapEffect((texts) =>
      Effect.forEach(texts, (text) =>
        Either.match(parse(text), {
          onLeft: (reason) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(reason))),
          onRight: Effect.succeed
        })
      )
    )
  )

/** `okta-connections simulator` (`npm run simulator -- …` in this repository). */
export const simulatorCommand = Command.make(
  "simulator",
  {
    port: wholeNumber("port", 0, 65_535).pipe(
      Options.withDescription("the port (default: a free one)"),
      Options.optional
    ),
    token: Options.text("token").pipe(
      Options.withDescription("the SSWS token it accepts (default: random)"),
      Options.optional
    ),
    limit: optionalInteger("rate-limit", "requests per window (default 50)", 1),
    windowSeconds: optionalInteger("window-seconds", "the window (default 60)", 1),
    concurrencyLimit: optionalInteger("concurrency-limit", "requests in flight (default 15)", 1),
    latencyMillis: optionalInteger(
      "latency-ms",
      "how long each request holds a concurrency slot before its answer (default 0)",
      0
    ),
    batchApps: optionalInteger("batch-apps", "extra generated apps", 0),
    contentLength: Options.boolean("content-length").pipe(
      Options.withDescription("declare every body's length instead of Okta's chunked bodies")
    ),
    faults: repeatedSpec("fault", `a fault armed at start: ${FAULT_SPEC_HELP}`, parseFaultSpec),
    oauthClients: repeatedSpec(
      "oauth-client",
      `a service app its authorization server accepts: ${OAUTH_CLIENT_SPEC_HELP}`,
      parseOAuthClientSpec
    )
  },
  (options) =>
    Effect.flatMap(
      Effect.promise(() => import("./simulatorRun.js")),
      ({ runSimulator }) =>
        runSimulator({
          port: Option.getOrUndefined(options.port),
          token: Option.getOrUndefined(options.token),
          limit: Option.getOrUndefined(options.limit),
          windowSeconds: Option.getOrUndefined(options.windowSeconds),
          concurrencyLimit: Option.getOrUndefined(options.concurrencyLimit),
          latencyMillis: Option.getOrUndefined(options.latencyMillis),
          batchApps: Option.getOrUndefined(options.batchApps),
          contentLength: options.contentLength,
          faults: options.faults,
          oauthClients: options.oauthClients
        }).pipe(
          // A port in use (or not allowed) is the command line's to mend: one line, exit 2.
          Effect.catchTag("SimulatorServeError", ({ message }) => new UsageError(message))
        )
    )
).pipe(Command.withDescription("a local Okta org on a loopback port, to try every command"))
