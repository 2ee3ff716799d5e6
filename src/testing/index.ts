/**
 * `effect-okta-connections/testing`: a local Okta simulator for tests, examples and benchmarks.
 * Node only (it uses `node:http` and `node:crypto`).
 *
 * @since 0.1.0
 */
export type {
  FaultOptions,
  LoggedRequest,
  SimOutcome,
  SimRequest,
  SimResponse,
  SimulatedRateLimit,
  SimulatedToken,
  SimulatorFault
} from "./model.js"
export type { PublicJwk, SimulatedOAuthClient } from "./oauth.js"
export {
  type ConnectionsOptions,
  make,
  OktaSimulator,
  OktaSimulatorError,
  type OktaSimulatorOptions,
  type OktaSimulatorService,
  serve,
  type SimulatedConnectionState,
  SimulatorServeError,
  SimulatorServer,
  type SimulatorServerInfo
} from "./OktaSimulator.js"
export { withAdvancingClock } from "./clock.js"
export {
  DEFAULT_APPS,
  generatedApps,
  type SimulatedApp,
  type SimulatedAppName,
  type SimulatedConnectionSeed
} from "./seed.js"
