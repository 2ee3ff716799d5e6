/**
 * `OktaClient.layerConfig`: the org URL and credentials read from `Config`, with Okta's standard
 * variables as defaults.
 */
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { OktaConfigError } from "../errors/OktaError.js"
import type {
  OktaClientConfigOptions,
  OktaClientOptions,
  OktaOAuthOptions
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
  // `Config.redacted`'s own failure message is "<redacted>": read the text, then redact it, so a
  // missing variable is named.
  const secret = (name: string) => Config.map(Config.string(name), Redacted.make)
  const url = orgUrl ?? Config.string("OKTA_CLIENT_ORGURL")
  return Effect.gen(function* () {
    const mode = (yield* (
      authorizationMode ??
      Config.string("OKTA_CLIENT_AUTHORIZATIONMODE").pipe(Config.withDefault("SSWS"))
    ))
      .trim()
      .toLowerCase()
    // Each mode's variables are read together, so every missing one is reported at once.
    if (accessToken !== undefined) {
      const read = yield* Config.all({ orgUrl: url, accessToken })
      return { ...settings, ...read }
    }
    if (mode === "ssws") {
      const read = yield* Config.all({
        orgUrl: url,
        apiToken: apiToken ?? secret("OKTA_CLIENT_TOKEN")
      })
      return { ...settings, ...read }
    }
    if (mode === "privatekey") {
      const read = yield* Config.all({
        orgUrl: url,
        clientId: clientId ?? Config.string("OKTA_CLIENT_CLIENTID"),
        scopes: scopes ?? Config.string("OKTA_CLIENT_SCOPES"),
        privateKey: privateKey ?? secret("OKTA_CLIENT_PRIVATEKEY"),
        keyId: Config.option(keyId ?? Config.string("OKTA_CLIENT_KEYID"))
      })
      const oauth: OktaOAuthOptions = {
        clientId: read.clientId,
        scopes: read.scopes.split(/[\s,]+/).filter((scope) => scope !== ""),
        privateKey: read.privateKey,
        ...(Option.isSome(read.keyId) ? { keyId: read.keyId.value } : {}),
        ...(dpop !== undefined ? { dpop } : {})
      }
      return { ...settings, orgUrl: read.orgUrl, oauth }
    }
    return yield* new OktaConfigError({
      field: "authorizationMode",
      reason: "must be SSWS or PrivateKey (OKTA_CLIENT_AUTHORIZATIONMODE)"
    })
  })
}
