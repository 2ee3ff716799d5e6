/**
 * `ApplicationConnections`: the six operations of Okta's Application Connections API, named by
 * their operationIds, with the Okta SDKs' argument order.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import {
  OktaInvalidInputError,
  type OktaRequestError,
  type OktaResponseError
} from "../errors/OktaError.js"
import { describeIssue } from "../internal/issues.js"
import { decodeJson, discardBody } from "../internal/response.js"
import { OktaClient, type OktaClientService } from "../layers/OktaClient.js"
import { AppId, OAuthProvisioningEnabledApp } from "../schema/AppId.js"
import { ProvisioningConnectionResponse } from "../schema/Connection.js"
import { AppConnectionUserProvisionJWKResponse } from "../schema/Jwks.js"
import { UpdateDefaultProvisioningConnectionForApplicationRequest } from "../schema/Request.js"

/**
 * Options of `updateDefaultProvisioningConnectionForApplication`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections } from "effect-okta-connections"
 *
 * const saveAndEnable = Effect.flatMap(ApplicationConnections, (api) =>
 *   api.updateDefaultProvisioningConnectionForApplication("0oa1", { profile: { authScheme: "TOKEN", token: "…" } }, { activate: true })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface UpdateConnectionOptions {
  /** Also enable the connection in the same call (`?activate=true`). Omitted: saved, not activated. */
  readonly activate?: boolean | undefined
}

/**
 * Options of `verifyProvisioningConnectionForApplication`: the `code` and `state` from the
 * `continue_oauth_flow_url` Okta issued after the admin consented. Both are one-time values and
 * never appear in errors, logs or spans.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections } from "effect-okta-connections"
 *
 * const verify = (continueUrl: URL) =>
 *   Effect.flatMap(ApplicationConnections, (api) =>
 *     api.verifyProvisioningConnectionForApplication("office365", "0oa1", {
 *       code: continueUrl.searchParams.get("code") ?? undefined,
 *       state: continueUrl.searchParams.get("state") ?? undefined
 *     })
 *   )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface VerifyConnectionOptions {
  readonly code?: string | undefined
  readonly state?: string | undefined
}

/**
 * The service `ApplicationConnections` provides. Every method validates its arguments first
 * (`OktaInvalidInputError`, nothing sent), is traced as `ApplicationConnections.<operationId>`,
 * and fails only with the typed errors in its signature.
 *
 * @example
 * ```ts
 * import { Effect, Layer } from "effect"
 * import { ApplicationConnections, type ApplicationConnectionsService } from "effect-okta-connections"
 *
 * // A hand-written stand-in for a unit test of your own code:
 * const fake: Partial<ApplicationConnectionsService> = {
 *   activateDefaultProvisioningConnectionForApplication: () => Effect.void
 * }
 * const TestLayer = Layer.mock(ApplicationConnections, fake)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface ApplicationConnectionsService {
  /**
   * `GET /api/v1/apps/{appId}/connections/default`: the app's default provisioning connection.
   * Scope `okta.apps.read`.
   */
  readonly getDefaultProvisioningConnectionForApplication: (
    appId: string
  ) => Effect.Effect<ProvisioningConnectionResponse, OktaResponseError>
  /**
   * `POST /api/v1/apps/{appId}/connections/default[?activate=true]`: replaces the connection's
   * configuration (token or OAuth 2.0). Scope `okta.apps.manage`.
   */
  readonly updateDefaultProvisioningConnectionForApplication: (
    appId: string,
    body: UpdateDefaultProvisioningConnectionForApplicationRequest,
    options?: UpdateConnectionOptions
  ) => Effect.Effect<ProvisioningConnectionResponse, OktaResponseError>
  /**
   * `POST /api/v1/apps/{appId}/connections/default/lifecycle/activate` (204). Scope `okta.apps.manage`.
   */
  readonly activateDefaultProvisioningConnectionForApplication: (
    appId: string
  ) => Effect.Effect<void, OktaRequestError>
  /**
   * `POST /api/v1/apps/{appId}/connections/default/lifecycle/deactivate` (204). Scope `okta.apps.manage`.
   */
  readonly deactivateDefaultProvisioningConnectionForApplication: (
    appId: string
  ) => Effect.Effect<void, OktaRequestError>
  /**
   * `GET /api/v1/apps/{appId}/connections/default/jwks`: the public keys of an Org2Org OAuth 2.0
   * connection. Scope `okta.apps.read`.
   */
  readonly getUserProvisioningConnectionJWKS: (
    appId: string
  ) => Effect.Effect<AppConnectionUserProvisionJWKResponse, OktaResponseError>
  /**
   * `POST /api/v1/apps/{appName}/{appId}/oauth2/callback?code=…&state=…` (204): completes the
   * three-legged OAuth 2.0 consent flow of `google`, `office365`, `slack` or `zoomus`. Scope
   * `okta.apps.manage`.
   */
  readonly verifyProvisioningConnectionForApplication: (
    appName: OAuthProvisioningEnabledApp,
    appId: string,
    options?: VerifyConnectionOptions
  ) => Effect.Effect<void, OktaRequestError>
}

const decodeAppId = Schema.decodeUnknownEither(AppId)
const decodeAppName = Schema.decodeUnknownEither(OAuthProvisioningEnabledApp)
// The body is validated by encoding it: what the caller gave must be exactly the request type.
// Excess members are an error rather than silently dropped, so a typo ("tokn") in JavaScript or
// behind a cast is reported instead of sending a body without the token.
const encodeBody = Schema.encodeUnknownEither(
  UpdateDefaultProvisioningConnectionForApplicationRequest,
  { onExcessProperty: "error", errors: "all" }
)

const invalid = (operation: string, field: string, issues: string) =>
  new OktaInvalidInputError({ operation, field, issues })

/**
 * Exactly the ids `AppId` accepts, in one test: the common case skips the schema, which runs only
 * to describe a rejection (a property test keeps the two in agreement).
 *
 * @internal
 */
// eslint-disable-next-line no-control-regex
export const VALID_APP_ID = /^(?!.*\.\.)[^\s/?#%\\\u0000-\u001f\u007f-\u009f]{1,100}$/

const checkAppId = (
  operation: string,
  appId: unknown
): Either.Either<string, OktaInvalidInputError> =>
  typeof appId === "string" && VALID_APP_ID.test(appId)
    ? Either.right(appId)
    : Either.mapLeft(decodeAppId(appId), (e) => invalid(operation, "appId", describeIssue(e.issue)))

const checkOptionalString = (
  operation: string,
  field: string,
  value: unknown
): Either.Either<string | undefined, OktaInvalidInputError> =>
  value === undefined || typeof value === "string"
    ? Either.right(value)
    : Either.left(invalid(operation, field, "expected a string"))

const connectionPath = (appId: string) =>
  `/api/v1/apps/${encodeURIComponent(appId)}/connections/default`

const SPAN_PREFIX = "ApplicationConnections."

/**
 * Builds the service over an {@link OktaClient}. Decoders are built once here, not per call.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (client: OktaClientService): ApplicationConnectionsService => {
  // Each operation is a span `ApplicationConnections.<operationId>` (made by `client.execute`,
  // which also parents the HTTP exchanges to it), unless the client was built with
  // `tracing: false`. The operations are plain functions, not `Effect.fn`: that captures a stack
  // trace on every call, measured at a tenth of the client's per-call overhead.
  const rejected = (operation: string, error: OktaInvalidInputError) =>
    client.tracing
      ? Effect.withSpan(Effect.fail(error), SPAN_PREFIX + operation, { captureStackTrace: false })
      : Effect.fail(error)
  const decodeConnection = decodeJson(ProvisioningConnectionResponse)
  const decodeJwks = decodeJson(AppConnectionUserProvisionJWKResponse)

  const getOp = "getDefaultProvisioningConnectionForApplication"
  const updateOp = "updateDefaultProvisioningConnectionForApplication"
  const activateOp = "activateDefaultProvisioningConnectionForApplication"
  const deactivateOp = "deactivateDefaultProvisioningConnectionForApplication"
  const jwksOp = "getUserProvisioningConnectionJWKS"
  const verifyOp = "verifyProvisioningConnectionForApplication"

  /** The operations whose only argument is the app id: check it, then one exchange. */
  const byAppId =
    <A, E extends { readonly _tag: string }>(
      operation: string,
      method: "GET" | "POST",
      suffix: string,
      onSuccess: Parameters<typeof client.execute<A, E>>[1]
    ) =>
    (appId: string) => {
      const id = checkAppId(operation, appId)
      if (Either.isLeft(id)) return rejected(operation, id.left)
      return client.execute(
        {
          operation,
          method,
          path: connectionPath(id.right) + suffix,
          spanName: SPAN_PREFIX + operation,
          spanAttributes: { "okta.app_id": id.right }
        },
        onSuccess
      )
    }

  const updateDefaultProvisioningConnectionForApplication = (
    appId: string,
    body: UpdateDefaultProvisioningConnectionForApplicationRequest,
    options?: UpdateConnectionOptions
  ) => {
    const id = checkAppId(updateOp, appId)
    if (Either.isLeft(id)) return rejected(updateOp, id.left)
    const encoded = encodeBody(body)
    if (Either.isLeft(encoded)) {
      return rejected(updateOp, invalid(updateOp, "body", describeIssue(encoded.left.issue)))
    }
    const activate = options?.activate
    if (activate !== undefined && typeof activate !== "boolean") {
      return rejected(updateOp, invalid(updateOp, "activate", "expected a boolean"))
    }
    return client.execute(
      {
        operation: updateOp,
        method: "POST",
        path: connectionPath(id.right),
        urlParams: activate !== undefined ? { activate: String(activate) } : undefined,
        body: encoded.right,
        spanName: SPAN_PREFIX + updateOp,
        spanAttributes: { "okta.app_id": id.right }
      },
      decodeConnection
    )
  }

  const verifyProvisioningConnectionForApplication = (
    appName: OAuthProvisioningEnabledApp,
    appId: string,
    options?: VerifyConnectionOptions
  ) => {
    const name = decodeAppName(appName)
    if (Either.isLeft(name)) {
      return rejected(
        verifyOp,
        invalid(verifyOp, "appName", 'expected one of "google", "office365", "slack", "zoomus"')
      )
    }
    const id = checkAppId(verifyOp, appId)
    if (Either.isLeft(id)) return rejected(verifyOp, id.left)
    const code = checkOptionalString(verifyOp, "code", options?.code)
    if (Either.isLeft(code)) return rejected(verifyOp, code.left)
    const state = checkOptionalString(verifyOp, "state", options?.state)
    if (Either.isLeft(state)) return rejected(verifyOp, state.left)
    const urlParams: Record<string, string> = {}
    if (code.right !== undefined) urlParams["code"] = code.right
    if (state.right !== undefined) urlParams["state"] = state.right
    return client.execute(
      {
        operation: verifyOp,
        method: "POST",
        path: `/api/v1/apps/${encodeURIComponent(name.right)}/${encodeURIComponent(id.right)}/oauth2/callback`,
        urlParams,
        // The code is one-time: a request that may have reached Okta is never sent again.
        replaySafe: false,
        spanName: SPAN_PREFIX + verifyOp,
        spanAttributes: { "okta.app_id": id.right, "okta.app_name": name.right }
      },
      discardBody
    )
  }

  return {
    getDefaultProvisioningConnectionForApplication: byAppId(getOp, "GET", "", decodeConnection),
    updateDefaultProvisioningConnectionForApplication,
    activateDefaultProvisioningConnectionForApplication: byAppId(
      activateOp,
      "POST",
      "/lifecycle/activate",
      discardBody
    ),
    deactivateDefaultProvisioningConnectionForApplication: byAppId(
      deactivateOp,
      "POST",
      "/lifecycle/deactivate",
      discardBody
    ),
    getUserProvisioningConnectionJWKS: byAppId(jwksOp, "GET", "/jwks", decodeJwks),
    verifyProvisioningConnectionForApplication
  }
}

/**
 * The Application Connections API. `yield* ApplicationConnections` gives the six operations.
 *
 * @example
 * ```ts
 * import { FetchHttpClient } from "@effect/platform"
 * import { Effect, Layer, Redacted } from "effect"
 * import { ApplicationConnections, OktaClient } from "effect-okta-connections"
 *
 * const program = Effect.gen(function* () {
 *   const connections = yield* ApplicationConnections
 *   const connection = yield* connections.getDefaultProvisioningConnectionForApplication("0oafxqCAJWWGELFTYASJ")
 *   yield* Effect.log(`status ${connection.status}, auth ${connection.profile.authScheme}`)
 * })
 *
 * const Live = ApplicationConnections.layer.pipe(
 *   Layer.provide(OktaClient.layer({ orgUrl: "https://acme.okta.com", apiToken: Redacted.make("00abc…") })),
 *   Layer.provide(FetchHttpClient.layer)
 * )
 *
 * Effect.runPromise(Effect.provide(program, Live))
 * ```
 *
 * @since 0.1.0
 * @category tags
 */
export class ApplicationConnections extends Context.Tag(
  "effect-okta-connections/ApplicationConnections"
)<ApplicationConnections, ApplicationConnectionsService>() {
  /**
   * The live service over the {@link OktaClient} in context.
   *
   * @example
   * ```ts
   * import { Layer } from "effect"
   * import { ApplicationConnections, OktaClient } from "effect-okta-connections"
   *
   * const FromEnv = ApplicationConnections.layer.pipe(Layer.provide(OktaClient.layerConfig()))
   * ```
   */
  static readonly layer: Layer.Layer<ApplicationConnections, never, OktaClient> = Layer.effect(
    ApplicationConnections,
    Effect.map(OktaClient, make)
  )
}
