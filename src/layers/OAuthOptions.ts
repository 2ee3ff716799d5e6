/**
 * Options of OAuth 2.0 service-app authentication (kept apart from the implementation so that the
 * public types never depend on the optional `jose` package).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Redacted from "effect/Redacted"

/**
 * OAuth 2.0 service-app credentials.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { OktaClient } from "effect-okta-connections"
 *
 * const layer = OktaClient.layer({
 *   orgUrl: "https://acme.okta.com",
 *   oauth: {
 *     clientId: "0oa1serviceapp",
 *     privateKey: Redacted.make(process.env.OKTA_PRIVATE_KEY ?? ""),
 *     keyId: "my-key-id",
 *     scopes: ["okta.apps.read", "okta.apps.manage"]
 *   }
 * })
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface OktaOAuthOptions {
  /** The service app's client id. */
  readonly clientId: string
  /** The app's private key: PKCS#8 PEM, or a private JWK as JSON. Never logged or put in errors. */
  readonly privateKey: Redacted.Redacted<string>
  /** The key's id (`kid`) registered with the app, sent in the assertion's header. */
  readonly keyId?: string | undefined
  /** Scopes to request, e.g. `["okta.apps.read", "okta.apps.manage"]`. */
  readonly scopes: ReadonlyArray<string>
  /**
   * Bind tokens to an ephemeral key with DPoP. Default false, but switched on by itself when the
   * token endpoint answers that the app requires it.
   */
  readonly dpop?: boolean | undefined
  /** Refresh this long before the token expires (at most half its lifetime). Default 5 minutes. */
  readonly refreshMargin?: Duration.DurationInput | undefined
}
