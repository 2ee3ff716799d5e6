/**
 * The three-legged OAuth 2.0 consent flow of office365, google, slack and zoomus:
 * update (OAUTH2) → authorize link → admin consent → verify → activate.
 * Against a real org it runs for the app in OKTA_APP_ID named by OKTA_APP_NAME, and asks you to
 * consent in a browser.
 *
 *   npx tsx examples/consent-flow.ts
 */
import { Console, Effect } from "effect"
import { ApplicationConnections, type OAuthProvisioningEnabledApp } from "effect-okta-connections"
import {
  appNameFromEnv,
  Example,
  ExampleError,
  isMain,
  runMain,
  settingsFromEnv
} from "./support/Example.js"

const APPS: ReadonlyArray<OAuthProvisioningEnabledApp> = ["office365", "google", "slack", "zoomus"]

/** Office 365 takes its admin's credentials: from O365_ADMIN_USERNAME and O365_ADMIN_PASSWORD. */
const settingsFor = (name: OAuthProvisioningEnabledApp) =>
  name !== "office365"
    ? Effect.succeed({})
    : Effect.map(
        settingsFromEnv({
          O365_ADMIN_USERNAME: "admin@contoso.onmicrosoft.com",
          O365_ADMIN_PASSWORD: "example-password"
        }),
        (admin) => ({
          settings: {
            adminUsername: admin.O365_ADMIN_USERNAME,
            adminPassword: admin.O365_ADMIN_PASSWORD
          }
        })
      )

export const consentFlow = (name: OAuthProvisioningEnabledApp) =>
  Effect.gen(function* () {
    const example = yield* Example
    const api = yield* ApplicationConnections
    const appId = yield* example.appId(name)
    const configured = yield* api.updateDefaultProvisioningConnectionForApplication(appId, {
      profile: { authScheme: "OAUTH2", ...(yield* settingsFor(name)) }
    })
    const href = configured._links?.authorize?.href
    if (href === undefined) {
      return yield* new ExampleError({
        message: `${name} ${appId}: no authorize link after update`
      })
    }
    yield* Console.log(
      `   ${name.padEnd(9)} update → ${configured.status}, authorize link ${new URL(href).host}`
    )
    const { code, state } = yield* example.consent(href)
    yield* api.verifyProvisioningConnectionForApplication(name, appId, { code, state })
    yield* api.activateDefaultProvisioningConnectionForApplication(appId)
    const done = yield* api.getDefaultProvisioningConnectionForApplication(appId)
    yield* Console.log(`   ${name.padEnd(9)} consent → verify → activate → ${done.status}`)
  })

export const program = Effect.gen(function* () {
  const example = yield* Example
  yield* example.allowWrites
  const names = example.target === "okta" ? [yield* appNameFromEnv] : APPS
  for (const name of names) yield* consentFlow(name)
})

if (isMain(import.meta.url)) runMain(program)
