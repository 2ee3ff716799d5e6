/**
 * effect-okta-connections: an Effect-native client for Okta's Application Connections API.
 *
 * @since 0.1.0
 */
export * from "./errors/index.js"
export {
  OktaClient,
  type OktaClientConfigOptions,
  type OktaClientOptions,
  type OktaClientService,
  type OktaClientSettings,
  type OktaCredentials,
  type OktaRequest
} from "./layers/OktaClient.js"
export type { RequestContext } from "./internal/response.js"
export * as OktaMetrics from "./layers/metrics.js"
export type { OktaOAuthOptions } from "./layers/OAuthOptions.js"
export * as RetryPolicy from "./layers/RetryPolicy.js"
export * from "./schema/index.js"
export {
  ApplicationConnections,
  type ApplicationConnectionsService,
  type UpdateConnectionOptions,
  type VerifyConnectionOptions
} from "./services/ApplicationConnections.js"
export { VERSION } from "./version.js"
