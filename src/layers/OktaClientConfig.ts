/**
 * `OktaClient.layerConfig`: the org URL and credentials read from `Config`, with Okta's standard
 * variables as defaults.
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { OktaConfigError } from "../errors/OktaError.js"
import type {
  OktaClientConfigOptions,
  OktaClientOptions,
  OktaCredentials
} from "./OktaClientOptions.js"

/**
 * Reads the org URL and credentials of {@link OktaClientConfigOptions} from `Config`, with Okta's
 * standard variables as defaults.
 *
 * @internal
 */
export const fromConfig = (
  options: OktaClientConfigOptions
): Effect.Effect<OktaClientOptions, ConfigError.ConfigError | OktaConfigError> => {
  const {
    orgUrl,
    apiToken,
    accessToken,
    authorizationMode,
    clientId,
    scopes,
    privateKey,
    keyId,
    dpop,
    ...settings
  } = options
  return Effect.gen(function* () {
    const url = yield* orgUrl ?? Config.string("OKTA_CLIENT_ORGURL")
    const mode = (yield* (
      authorizationMode ??
      Config.string("OKTA_CLIENT_AUTHORIZATIONMODE").pipe(Config.withDefault("SSWS"))
    ))
      .trim()
      .toLowerCase()
    let credentials: OktaCredentials
    if (accessToken !== undefined) {
      credentials = { accessToken: yield* accessToken }
    } else if (mode === "privatekey") {
      const scopeList = (yield* scopes ?? Config.string("OKTA_CLIENT_SCOPES"))
        .split(/[\s,]+/)
        .filter((scope) => scope !== "")
      const kid = yield* Config.option(keyId ?? Config.string("OKTA_CLIENT_KEYID"))
      credentials = {
        oauth: {
          clientId: yield* clientId ?? Config.string("OKTA_CLIENT_CLIENTID"),
          scopes: scopeList,
          privateKey: yield* privateKey ?? Config.redacted("OKTA_CLIENT_PRIVATEKEY"),
          ...(Option.isSome(kid) ? { keyId: kid.value } : {}),
          ...(dpop !== undefined ? { dpop } : {})
        }
      }
    } else if (mode === "ssws") {
      credentials = { apiToken: yield* apiToken ?? Config.redacted("OKTA_CLIENT_TOKEN") }
    } else {
      return yield* new OktaConfigError({
        field: "authorizationMode",
        reason: "must be SSWS or PrivateKey"
      })
    }
    return { ...settings, orgUrl: url, ...credentials }
  })
}
