/**
 * The six operations, each with its path (the app id where `{id}` stands), called with an app id
 * and fixed, valid other arguments: for tests that run every operation alike.
 */
import type { Effect } from "effect"
import type { ApplicationConnectionsService } from "../../src/index.js"

export interface Operation {
  readonly name: string
  /** Okta's operationId: the `operation` tag of the client's metrics, logs and spans. */
  readonly operationId: string
  readonly path: string
  /** No response body to decode: the signature leaves `OktaDecodeError` out. */
  readonly noBody: boolean
  readonly call: (api: ApplicationConnectionsService, id: string) => Effect.Effect<unknown, unknown>
}

export const OPERATIONS: ReadonlyArray<Operation> = [
  {
    name: "get",
    operationId: "getDefaultProvisioningConnectionForApplication",
    path: "/api/v1/apps/{id}/connections/default",
    noBody: false,
    call: (api, id) => api.getDefaultProvisioningConnectionForApplication(id)
  },
  {
    name: "update",
    operationId: "updateDefaultProvisioningConnectionForApplication",
    path: "/api/v1/apps/{id}/connections/default",
    noBody: false,
    call: (api, id) =>
      api.updateDefaultProvisioningConnectionForApplication(id, {
        profile: { authScheme: "TOKEN", token: "00new-token" }
      })
  },
  {
    name: "activate",
    operationId: "activateDefaultProvisioningConnectionForApplication",
    path: "/api/v1/apps/{id}/connections/default/lifecycle/activate",
    noBody: true,
    call: (api, id) => api.activateDefaultProvisioningConnectionForApplication(id)
  },
  {
    name: "deactivate",
    operationId: "deactivateDefaultProvisioningConnectionForApplication",
    path: "/api/v1/apps/{id}/connections/default/lifecycle/deactivate",
    noBody: true,
    call: (api, id) => api.deactivateDefaultProvisioningConnectionForApplication(id)
  },
  {
    name: "jwks",
    operationId: "getUserProvisioningConnectionJWKS",
    path: "/api/v1/apps/{id}/connections/default/jwks",
    noBody: false,
    call: (api, id) => api.getUserProvisioningConnectionJWKS(id)
  },
  {
    name: "verify",
    operationId: "verifyProvisioningConnectionForApplication",
    path: "/api/v1/apps/office365/{id}/oauth2/callback",
    noBody: true,
    call: (api, id) =>
      api.verifyProvisioningConnectionForApplication("office365", id, {
        code: "one-time-code",
        state: "state-1"
      })
  }
]
