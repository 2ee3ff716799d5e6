/**
 * The documented org the simulator starts with, and helpers to seed others.
 *
 * @since 0.1.0
 */

/**
 * The app names the simulator knows the provisioning capabilities of (Okta's app `name`s).
 * Any other name is an app without provisioning support (GET answers `UNKNOWN`).
 *
 * @example
 * ```ts
 * import type { SimulatedAppName } from "effect-okta-connections/testing"
 *
 * const name: SimulatedAppName = "okta_org2org"
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SimulatedAppName =
  | "okta_org2org"
  | "zscalerbyz"
  | "office365"
  | "google"
  | "slack"
  | "zoomus"
  | "bookmark"
  | (string & {})

/**
 * The initial state of an app's default provisioning connection.
 *
 * @example
 * ```ts
 * import type { SimulatedConnectionSeed } from "effect-okta-connections/testing"
 *
 * const enabledToken: SimulatedConnectionSeed = { authScheme: "TOKEN", status: "ENABLED" }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type SimulatedConnectionSeed =
  | {
      readonly authScheme: "TOKEN"
      readonly status?: "ENABLED" | "DISABLED" | undefined
      readonly baseUrl?: string | undefined
      readonly token?: string | undefined
      readonly clientId?: string | undefined
    }
  | {
      readonly authScheme: "OAUTH2"
      readonly status?: "ENABLED" | "DISABLED" | undefined
      readonly clientId?: string | undefined
      readonly rotationMode?: "AUTO" | "MANUAL" | undefined
      /** Consent-flow apps: whether the admin consent was already verified. Default false. */
      readonly verified?: boolean | undefined
    }

/**
 * An app of the simulated org.
 *
 * @example
 * ```ts
 * import type { SimulatedApp } from "effect-okta-connections/testing"
 *
 * const app: SimulatedApp = {
 *   id: "0oa1zscaler000000001",
 *   name: "zscalerbyz",
 *   label: "Zscaler 2.0",
 *   connection: { authScheme: "TOKEN", status: "ENABLED", baseUrl: "https://scim.zscalerbeta.net/1/2/scim" }
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface SimulatedApp {
  readonly id: string
  readonly name: SimulatedAppName
  readonly label?: string | undefined
  /** Every call on this app answers 403 `E0000006`, as for an admin without permission on it. */
  readonly forbidden?: boolean | undefined
  /** Omitted: an unconfigured, DISABLED connection of the app's natural scheme. */
  readonly connection?: SimulatedConnectionSeed | undefined
}

/**
 * The apps of the default simulated org, one of each kind the Application Connections API serves:
 * token apps (Zscaler 2.0, Org2Org), an Org2Org OAuth 2.0 app (with a JWKS), the four consent-flow
 * apps, an app without provisioning support, and one the token may not touch.
 *
 * @example
 * ```ts
 * import { DEFAULT_APPS } from "effect-okta-connections/testing"
 *
 * const zscaler = DEFAULT_APPS.find((app) => app.name === "zscalerbyz")!
 * ```
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_APPS: ReadonlyArray<SimulatedApp> = [
  {
    id: "0oasimzscaler0000001",
    name: "zscalerbyz",
    label: "Zscaler 2.0",
    connection: {
      authScheme: "TOKEN",
      status: "ENABLED",
      baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim",
      token: "00zscaler-seed-token"
    }
  },
  {
    id: "0oasimorg2orgtoken01",
    name: "okta_org2org",
    label: "Okta Org2Org (token)",
    connection: { authScheme: "TOKEN", status: "DISABLED", baseUrl: "https://targetorg.okta.com" }
  },
  {
    id: "0oasimorg2orgoauth01",
    name: "okta_org2org",
    label: "Okta Org2Org (OAuth 2.0)",
    connection: {
      authScheme: "OAUTH2",
      status: "ENABLED",
      clientId: "0oa2wmzEtqh49C1Sr0g4",
      rotationMode: "AUTO"
    }
  },
  { id: "0oasimoffice36500001", name: "office365", label: "Microsoft Office 365" },
  { id: "0oasimgoogle00000001", name: "google", label: "Google Workspace" },
  { id: "0oasimslack000000001", name: "slack", label: "Slack" },
  { id: "0oasimzoomus00000001", name: "zoomus", label: "Zoom" },
  { id: "0oasimbookmark000001", name: "bookmark", label: "Intranet bookmark" },
  {
    id: "0oasimforbidden00001",
    name: "okta_org2org",
    label: "Org2Org owned by another admin",
    forbidden: true
  }
]

/**
 * `count` token-based Zscaler apps for batches and benchmarks: ids `0oasimbatch000000000`,
 * `0oasimbatch000000001`… (20 characters, as Okta's are), alternately ENABLED and DISABLED (the
 * first ENABLED), each with a `baseUrl` of its own.
 *
 * @example
 * ```ts
 * import { DEFAULT_APPS, generatedApps } from "effect-okta-connections/testing"
 *
 * const apps = [...DEFAULT_APPS, ...generatedApps(300)]
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const generatedApps = (count: number): ReadonlyArray<SimulatedApp> =>
  Array.from({ length: count }, (_, i) => ({
    id: `0oasimbatch${String(i).padStart(9, "0")}`,
    name: "zscalerbyz",
    label: `Zscaler 2.0 #${i}`,
    connection: {
      authScheme: "TOKEN" as const,
      status: i % 2 === 0 ? ("ENABLED" as const) : ("DISABLED" as const),
      baseUrl: `https://scim.zscalerbeta.net/${1000000 + i}/890/scim`
    }
  }))
