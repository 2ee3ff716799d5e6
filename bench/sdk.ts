/**
 * The official SDK, as the benchmarks use it: `@okta/okta-sdk-nodejs` (a devDependency of the
 * benchmarks only), with its in-memory GET cache off: a cached read never reaches Okta.
 */
import { createRequire } from "node:module"

interface OktaSdkClient {
  readonly applicationApi: {
    readonly getDefaultProvisioningConnectionForApplication: (args: {
      appId: string
    }) => Promise<unknown>
  }
}

const require = createRequire(import.meta.url)
const okta = require("@okta/okta-sdk-nodejs") as {
  Client: new (config: Record<string, unknown>) => OktaSdkClient
}

export const sdkClient = (orgUrl: string, token: string): OktaSdkClient =>
  new okta.Client({ orgUrl, token, cacheMiddleware: null })
