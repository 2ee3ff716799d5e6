/**
 * `ApplicationConnections`: the six operations of Okta's Application Connections API, named by
 * their operationIds, with the Okta SDKs' argument order.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import {
  OktaInvalidInputError,
  type OktaRequestError,
  type OktaResponseError
} from "../errors/OktaError.js"
import { OktaUnexpectedStatusError } from "../errors/OktaHttpError.js"
import {
  check,
  checkAppName,
  decodeAppId,
  encodeUpdateBody,
  optionalQueryValue,
  secretsOf
} from "../internal/input.js"
import { OktaClient, type OktaClientService, type OktaResponse } from "../layers/OktaClient.js"
import type { OAuthProvisioningEnabledApp } from "../schema/AppId.js"
import { ProvisioningConnectionResponse } from "../schema/Connection.js"
import { AppConnectionUserProvisionJWKResponse } from "../schema/Jwks.js"
import type { UpdateDefaultProvisioningConnectionForApplicationRequest } from "../schema/Request.js"

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
 */
export interface UpdateConnectionOptions {
  /**
   * Also enable the connection in the same call (`?activate=true`). Omitted: Okta saves the
   * connection DISABLED, one that was ENABLED included; pass `true` to keep it enabled.
   */
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
   * configuration (token or OAuth 2.0). Scope `okta.apps.manage`. A `token` or `adminPassword`
   * that is empty or blank, or holds a line break or control character (a file read whole), is
   * refused (`OktaInvalidInputError`): it would replace a working credential.
   * A body from JavaScript or a file may spell the OAuth scheme `"OAUTH"`, as Okta's own example
   * does: it is sent as `"OAUTH2"`.
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

const updateOp = "updateDefaultProvisioningConnectionForApplication"
const verifyOp = "verifyProvisioningConnectionForApplication"

/** `application/json`, `application/problem+json` and the like. */
const JSON_TYPE = /^\s*application\/([\w.-]+\+)?json\s*(;|$)/i

const connectionPath = (appId: string) =>
  `/api/v1/apps/${encodeURIComponent(appId)}/connections/default`

const spanOf = (operation: string, attributes: Record<string, string>) => ({
  spanName: `ApplicationConnections.${operation}`,
  spanAttributes: attributes
})

/**
 * Builds the service over an {@link OktaClient}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ApplicationConnections, OktaClient } from "effect-okta-connections"
 *
 * const api = Effect.map(OktaClient, ApplicationConnections.make)
 * ```
 */
export const make = (client: OktaClientService): ApplicationConnectionsService => {
  const connection = (response: OktaResponse) => response.json(ProvisioningConnectionResponse)
  const jwks = (response: OktaResponse) => response.json(AppConnectionUserProvisionJWKResponse)
  /**
   * Okta answers activate, deactivate and verify with an empty 204. Another 2xx passes with no
   * body, a JSON one or one declared JSON (a truncated answer: the status said it all); a body of
   * another type that is not JSON, or past the size cap (a proxy's sign-in or block page), is not
   * Okta's, and the call fails rather than report a change that was never made. A body that
   * cannot be read is let go.
   */
  const noContent = (response: OktaResponse) =>
    response.status === 204 || JSON_TYPE.test(response.headers["content-type"] ?? "")
      ? Effect.void
      : Effect.catchAll(
          Effect.flatMap(response.text, (text) =>
            text.trim() === "" ? Effect.void : Effect.asVoid(response.json(Schema.Unknown))
          ),
          (error) =>
            error._tag === "OktaDecodeError"
              ? Effect.fail(
                  new OktaUnexpectedStatusError({
                    operation: error.operation,
                    method: error.method,
                    path: error.path,
                    status: error.status,
                    ...(error.requestId !== undefined ? { requestId: error.requestId } : {}),
                    ...(error.contentType !== undefined ? { contentType: error.contentType } : {})
                  })
                )
              : Effect.void
        )

  /** The operations whose only argument is the app id: check it, then one exchange. */
  const byAppId = <A, E>(
    operation: string,
    method: "GET" | "POST",
    suffix: string,
    decode: (response: OktaResponse) => Effect.Effect<A, E>
  ) =>
    Effect.fnUntraced(function* (appId: string) {
      const id = yield* check(operation, "appId", decodeAppId(appId))
      return yield* client.execute(
        {
          operation,
          method,
          path: connectionPath(id) + suffix,
          // Reading, activating or deactivating twice leaves the connection as once does.
          replaySafe: true,
          ...spanOf(operation, { "okta.app_id": id })
        },
        decode
      )
    })

  return {
    getDefaultProvisioningConnectionForApplication: byAppId(
      "getDefaultProvisioningConnectionForApplication",
      "GET",
      "",
      connection
    ),
    updateDefaultProvisioningConnectionForApplication: Effect.fnUntraced(function* (
      appId: string,
      body: UpdateDefaultProvisioningConnectionForApplicationRequest,
      options?: UpdateConnectionOptions
    ) {
      const id = yield* check(updateOp, "appId", decodeAppId(appId))
      const encoded = yield* encodeUpdateBody(body)
      // From JavaScript, `update(id, body, true)` would have saved the connection DISABLED.
      if (options !== undefined && (typeof options !== "object" || options === null)) {
        return yield* new OktaInvalidInputError({
          operation: updateOp,
          field: "options",
          issues: "expected an object, such as { activate: true }"
        })
      }
      const activate = options?.activate
      if (activate !== undefined && typeof activate !== "boolean") {
        return yield* new OktaInvalidInputError({
          operation: updateOp,
          field: "activate",
          issues: "expected a boolean"
        })
      }
      return yield* client.execute(
        {
          operation: updateOp,
          method: "POST",
          path: connectionPath(id),
          urlParams: activate !== undefined ? { activate: String(activate) } : undefined,
          body: encoded,
          secrets: secretsOf(encoded),
          // The same body sent twice sets the same configuration.
          replaySafe: true,
          ...spanOf(updateOp, { "okta.app_id": id })
        },
        connection
      )
    }),
    activateDefaultProvisioningConnectionForApplication: byAppId(
      "activateDefaultProvisioningConnectionForApplication",
      "POST",
      "/lifecycle/activate",
      noContent
    ),
    deactivateDefaultProvisioningConnectionForApplication: byAppId(
      "deactivateDefaultProvisioningConnectionForApplication",
      "POST",
      "/lifecycle/deactivate",
      noContent
    ),
    getUserProvisioningConnectionJWKS: byAppId(
      "getUserProvisioningConnectionJWKS",
      "GET",
      "/jwks",
      jwks
    ),
    verifyProvisioningConnectionForApplication: Effect.fnUntraced(function* (
      appName: OAuthProvisioningEnabledApp,
      appId: string,
      options?: VerifyConnectionOptions
    ) {
      const name = yield* checkAppName(verifyOp, appName)
      const id = yield* check(verifyOp, "appId", decodeAppId(appId))
      const code = yield* optionalQueryValue(verifyOp, "code", options?.code)
      const state = yield* optionalQueryValue(verifyOp, "state", options?.state)
      const urlParams: Record<string, string> = {}
      if (code !== undefined) urlParams["code"] = code
      if (state !== undefined) urlParams["state"] = state
      return yield* client.execute(
        {
          operation: verifyOp,
          method: "POST",
          path: `/api/v1/apps/${encodeURIComponent(name)}/${encodeURIComponent(id)}/oauth2/callback`,
          urlParams,
          secrets: Object.values(urlParams),
          // The code is one-time: a request that may have reached Okta is never sent again.
          replaySafe: false,
          ...spanOf(verifyOp, { "okta.app_id": id, "okta.app_name": name })
        },
        noContent
      )
    })
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

  /**
   * Builds the service over a given {@link OktaClientService} (see {@link make}).
   *
   * @example
   * ```ts
   * import { Effect } from "effect"
   * import { ApplicationConnections, OktaClient } from "effect-okta-connections"
   *
   * const api = Effect.map(OktaClient, ApplicationConnections.make)
   * ```
   */
  static readonly make = make
}
