/**
 * effect-okta-connections: an Effect-native client for Okta's Application Connections API.
 */
export * from "./errors/index.js"
export {
  OktaClient,
  type OktaClientService,
  type OktaExecuteError,
  type OktaRequest,
  type OktaResponse
} from "./layers/OktaClient.js"
export type {
  OktaClientConfigOptions,
  OktaClientOptions,
  OktaClientSettings,
  OktaCredentials,
  OktaOAuthOptions
} from "./layers/OktaClientOptions.js"
export { OktaFetch, type OktaFetchOptions } from "./layers/OktaFetch.js"
export * as OktaMetrics from "./metrics/OktaMetrics.js"
export * as RetryPolicy from "./layers/RetryPolicy.js"
export {
  type RateLimitAdmission,
  type RateLimitKey,
  type RateLimitObservation,
  RateLimitStore,
  RateLimitStoreError,
  type RateLimitStoreService
} from "./store/RateLimitStore.js"
export * from "./schema/index.js"
export {
  ApplicationConnections,
  type ApplicationConnectionsService,
  type UpdateConnectionOptions,
  type VerifyConnectionOptions
} from "./services/ApplicationConnections.js"
export { VERSION } from "./version.js"
