/**
 * `okta-connections apply` as a property, in process on the simulated org: for any app, any
 * connection it has now and any manifest entry for it, one apply makes the app what the entry
 * says, keeps what the entry leaves out, and a second plan has nothing to do. Then what the
 * simulated org never answers (a status Okta's open enum may add, an update left enabled), on a
 * scripted one.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, FastCheck as fc } from "effect"
import {
  AppId,
  ApplicationConnections,
  type ProvisioningConnectionResponse
} from "effect-okta-connections"
import {
  OktaSimulator,
  type SimulatedApp,
  type SimulatedConnectionSeed
} from "effect-okta-connections/testing"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  applyStep,
  type ManifestApp,
  manifestAppOf,
  manifestText,
  planFor,
  readManifest
} from "../cli/manifest.js"
import { connectionsWith, empty, json } from "./support/TestHttp.js"

const ID = "0oasimapplyapp000001"
const TOKEN_APPS = ["okta_org2org", "zscalerbyz"]
const OAUTH_APPS = ["okta_org2org", "office365", "google", "slack", "zoomus"]
/** Those whose OAuth 2.0 connection awaits an admin's consent, given in a browser. */
const CONSENT_APPS = ["office365", "google", "slack", "zoomus"]
/** Each field absent, or one of two values (one of them often what the app has already). */
const maybe = <A>(...values: ReadonlyArray<A>) =>
  fc.constantFrom<A | undefined>(undefined, ...values)
const status = maybe<"ENABLED" | "DISABLED">("ENABLED", "DISABLED")
const baseUrl = maybe("https://scim.example.com/a", "https://scim.example.com/b")
const clientId = maybe("0oaclientaaaaaaaaaaa", "0oaclientbbbbbbbbbbb")
const rotationMode = maybe<"AUTO" | "MANUAL">("AUTO", "MANUAL")

/** An app of a kind that has a provisioning connection, with any connection it may have now. */
const app = fc
  // Org2Org twice: the one app with both schemes and the most settings.
  .constantFrom(
    "okta_org2org",
    "okta_org2org",
    "zscalerbyz",
    "office365",
    "google",
    "slack",
    "zoomus"
  )
  .chain((name) =>
    fc
      .oneof(
        ...(TOKEN_APPS.includes(name)
          ? [fc.record({ authScheme: fc.constant("TOKEN" as const), status, baseUrl })]
          : []),
        ...(OAUTH_APPS.includes(name)
          ? [
              fc.record({
                authScheme: fc.constant("OAUTH2" as const),
                status,
                clientId,
                rotationMode
              })
            ]
          : [])
      )
      .map((connection): SimulatedApp => ({
        id: ID,
        name,
        connection: connection as SimulatedConnectionSeed
      }))
  )

/** A manifest entry for that app, in a scheme it takes, or a status alone. */
const entryFor = (name: string) =>
  fc.oneof(
    fc.record({ id: fc.constant(ID), status: fc.constantFrom("ENABLED", "DISABLED") }),
    ...(TOKEN_APPS.includes(name)
      ? [
          fc.record({
            id: fc.constant(ID),
            authScheme: fc.constant("TOKEN" as const),
            baseUrl,
            token: maybe("00resolved-token"),
            status
          })
        ]
      : []),
    ...(OAUTH_APPS.includes(name)
      ? [
          fc
            .record({
              id: fc.constant(ID),
              authScheme: fc.constant("OAUTH2" as const),
              clientId,
              rotationMode,
              status,
              // Office 365's settings go whole (the manifest reader refuses one without the other).
              admin: fc.boolean()
            })
            .map(({ admin, ...entry }) =>
              admin
                ? { ...entry, adminUsername: "admin@example.com", adminPassword: "resolved" }
                : entry
            )
        ]
      : [])
  )

/** The entry without its absent fields, as the manifest reader gives it. */
const defined = <A extends object>(value: A): A =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as A

describe("apply", () => {
  it.effect.prop(
    "makes the app what the manifest says, keeps what it leaves out, and a second plan does nothing",
    {
      setup: app.chain((seeded) => entryFor(seeded.name).map((entry) => ({ seeded, entry }))),
      // --resend-secrets: an update for the secrets alone.
      resendSecrets: fc.boolean()
    },
    ({ setup: { seeded, entry }, resendSecrets }) =>
      Effect.gen(function* () {
        const manifest = defined(entry) as ManifestApp
        const api = yield* ApplicationConnections
        const before = yield* api.getDefaultProvisioningConnectionForApplication(ID)
        const plan = planFor(manifest, before, resendSecrets)
        // A setting Okta keeps only for Org2Org, asked of an OAuth app that is not one.
        if (plan.refused !== undefined) {
          expect(seeded.name).not.toBe("okta_org2org")
          return
        }
        // An update is planned exactly when the plan lists a change to send (a setting, or a
        // secret re-sent), never for a lifecycle change alone or a re-send with no secret.
        const lifecycleChange = (change: string) => /^(activate|deactivate) \(/.test(change)
        expect(plan.update !== undefined).toBe(plan.changes.some((c) => !lifecycleChange(c)))
        // An activation of a connection Okta offers a consent link for says to consent first.
        const activation = plan.changes.find((change) => change.startsWith("activate ("))
        if (activation !== undefined) {
          expect(activation.includes("consent is still to be given")).toBe(
            before._links?.authorize !== undefined
          )
        }
        const sim = yield* OktaSimulator
        const sentBefore = (yield* sim.requests).length
        const { consent, ignored } = yield* applyStep(api, plan)
        // Okta's consent link, when the update's answer awaits an admin's consent (an OAuth 2.0
        // update of a three-legged app, saved DISABLED): given back, to be said after it.
        expect(consent !== undefined).toBe(
          plan.update?.profile.authScheme === "OAUTH2" &&
            !plan.activateWithUpdate &&
            CONSENT_APPS.includes(seeded.name)
        )
        // No call more than needed: the update (Okta saves it DISABLED unless it activates), then
        // a lifecycle call only where the status is not yet the manifest's.
        const writes = (yield* sim.requests).slice(sentBefore).map((entry) => entry.path)
        const statusAfterUpdate =
          plan.update === undefined
            ? before.status
            : plan.activateWithUpdate
              ? "ENABLED"
              : "DISABLED"
        expect(writes).toEqual([
          ...(plan.update !== undefined ? [`/api/v1/apps/${ID}/connections/default`] : []),
          ...(manifest.status !== undefined && manifest.status !== statusAfterUpdate
            ? [
                `/api/v1/apps/${ID}/connections/default/lifecycle/${manifest.status === "ENABLED" ? "activate" : "deactivate"}`
              ]
            : [])
        ])
        const after = yield* api.getDefaultProvisioningConnectionForApplication(ID)
        const profile = (connection: typeof after) =>
          connection.profile as { clientId?: string; signing?: { rotationMode?: string } }

        // What the manifest says holds; a status alone leaves the connection as it was.
        const configured = "authScheme" in manifest ? manifest : undefined
        if (configured === undefined) {
          expect([after.profile, after.baseUrl]).toEqual([before.profile, before.baseUrl])
        }
        expect(after.profile.authScheme).toBe(configured?.authScheme ?? before.profile.authScheme)
        if (manifest.status !== undefined) expect(after.status).toBe(manifest.status)
        if (configured?.authScheme === "TOKEN" && configured.baseUrl !== undefined) {
          expect(after.baseUrl).toBe(configured.baseUrl)
        }
        if (configured?.authScheme === "OAUTH2" && seeded.name === "okta_org2org") {
          if (configured.clientId !== undefined)
            expect(profile(after).clientId).toBe(configured.clientId)
          if (configured.rotationMode !== undefined) {
            expect(profile(after).signing?.rotationMode).toBe(configured.rotationMode)
          }
        }
        // What it leaves out is kept, where the connection keeps its scheme.
        if (manifest.status === undefined) expect(after.status).toBe(before.status)
        if (configured !== undefined && before.profile.authScheme === configured.authScheme) {
          if (configured.authScheme === "TOKEN" && configured.baseUrl === undefined) {
            expect(after.baseUrl).toBe(before.baseUrl)
            // Sent as it is: the simulator keeps a baseUrl an update leaves out, Okta may not.
            if (plan.update !== undefined) {
              expect((plan.update as { readonly baseUrl?: string }).baseUrl).toBe(before.baseUrl)
            }
          }
          if (configured.authScheme === "OAUTH2" && configured.clientId === undefined) {
            expect(profile(after).clientId).toBe(profile(before).clientId)
          }
          if (configured.authScheme === "OAUTH2" && configured.rotationMode === undefined) {
            expect(profile(after).signing?.rotationMode).toBe(profile(before).signing?.rotationMode)
          }
        }

        // Converged: nothing more to do, unless Okta ignored Org2Org settings (said, and the
        // next plan refuses them).
        const again = planFor(manifest, after, false)
        if (ignored !== undefined) {
          expect(seeded.name).not.toBe("okta_org2org")
          expect(again.refused).toBeDefined()
        } else {
          expect(again.changes).toEqual([])
        }
      }).pipe(
        Effect.provide(OktaSimulator.layerConnections({ apps: [seeded], client: { retry: false } }))
      ),
    { fastCheck: { seed: 20261204, numRuns: 400 } }
  )
})

describe("reading a manifest", () => {
  /** A directory of the test's own, removed when its scope closes. */
  const scratchDir = Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "manifest-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

  it.effect(
    "a file's secret is read without its final newline; a variable set empty is refused",
    () =>
      Effect.gen(function* () {
        const dir = yield* scratchDir
        // What `echo "$TOKEN" > token.txt` writes: the newline would be sent as part of the token.
        writeFileSync(join(dir, "token.txt"), "00file-token\n")
        const manifest = join(dir, "apps.json")
        const tokenIs = (token: string) => {
          writeFileSync(
            manifest,
            JSON.stringify({ apps: [{ id: ID, authScheme: "TOKEN", token }] })
          )
          return readManifest(manifest)
        }
        expect(yield* tokenIs("${file:token.txt}")).toMatchObject([{ token: "00file-token" }])
        // Spaces around a reference (a YAML value quoted with them) are no part of it.
        expect(yield* tokenIs(" ${file:token.txt} ")).toMatchObject([{ token: "00file-token" }])
        // An empty variable (a CI secret not set for this branch) would set an empty token.
        process.env["OKTA_APPLY_TEST_EMPTY"] = ""
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => delete process.env["OKTA_APPLY_TEST_EMPTY"])
        )
        const error = yield* Effect.flip(tokenIs("${env:OKTA_APPLY_TEST_EMPTY}"))
        expect(error.message).toBe(
          `${manifest}: apps[0].token: the environment variable OKTA_APPLY_TEST_EMPTY is empty`
        )
      }).pipe(Effect.scoped)
  )

  it("an app as get --manifest writes it: only what a manifest can hold, and apply plans nothing", () => {
    const oauth = (status: string, rotationMode: string): ProvisioningConnectionResponse => ({
      status,
      profile: { authScheme: "OAUTH2", clientId: "0oaclient", signing: { rotationMode } }
    })
    // A status or rotation Okta may add later than the manifest's lists: left to the app.
    expect(manifestAppOf(ID, oauth("UNKNOWN", "SCHEDULED"))).toEqual({
      id: ID,
      authScheme: "OAUTH2",
      clientId: "0oaclient"
    })
    const held = manifestAppOf(ID, oauth("ENABLED", "AUTO"))!
    expect(held).toEqual({
      id: ID,
      authScheme: "OAUTH2",
      clientId: "0oaclient",
      rotationMode: "AUTO",
      status: "ENABLED"
    })
    const step = planFor(held as ManifestApp, oauth("ENABLED", "AUTO"), false)
    expect([step.update, step.lifecycle, step.changes]).toEqual([undefined, undefined, []])
    // A scheme the manifest cannot hold: the status alone, from which apply plans nothing.
    const unnamed: ProvisioningConnectionResponse = {
      status: "DISABLED",
      profile: { authScheme: "UNKNOWN" }
    }
    const statusOnly = manifestAppOf(ID, unnamed)
    expect(statusOnly).toEqual({ id: ID, status: "DISABLED" })
    expect(planFor(statusOnly as ManifestApp, unnamed, false).changes).toEqual([])
    // An app without provisioning, as Okta answers a bookmark app: nothing to hold.
    expect(manifestAppOf(ID, { status: "UNKNOWN", profile: { authScheme: "UNKNOWN" } })).toBe(
      undefined
    )
  })

  it.effect(
    "a base URL Okta has that the update would refuse is the plan's refusal, not a failure halfway",
    () =>
      Effect.gen(function* () {
        const saved: ProvisioningConnectionResponse = {
          status: "ENABLED",
          authScheme: "TOKEN",
          baseUrl: "scim.example.com/v2", // saved without its scheme by another tool
          profile: { authScheme: "TOKEN" }
        }
        const app = { id: AppId.make(ID), authScheme: "TOKEN", token: "00new" } as const
        expect(planFor(app, saved, true)).toMatchObject({
          update: undefined,
          refused:
            "the update would send the baseUrl Okta has, which the update refuses (it must be an absolute URL, starting with https://); give the one meant as baseUrl in the manifest"
        })
        // get --manifest leaves it out, and says so: apply plans no change from what it writes.
        expect(manifestAppOf(ID, saved)).toEqual({ id: ID, authScheme: "TOKEN", status: "ENABLED" })
        const text = yield* manifestText([{ id: ID, connection: saved }])
        expect(text).toContain(
          `# Left out: the baseUrl of ${ID}, "scim.example.com/v2", which an update refuses (it must be an absolute URL, starting with https://): give the one meant.\n`
        )
        // Nothing to update: nothing sent, nothing refused; and the one meant, given, is sent.
        expect(planFor(app, saved, false)).toMatchObject({ update: undefined, changes: [] })
        expect(planFor(app, saved, false).refused).toBeUndefined()
        const mended = planFor({ ...app, baseUrl: "https://scim.example.com/v2" }, saved, false)
        expect(mended.refused).toBeUndefined()
        expect(mended.update).toEqual({
          baseUrl: "https://scim.example.com/v2",
          profile: { authScheme: "TOKEN", token: "00new" }
        })
      })
  )

  it.effect("the README's example manifest reads as it says", () =>
    Effect.gen(function* () {
      const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8")
      const block = /```text\n((?: {2}apps:\n)(?: {2}.*\n)+?) {2}```/.exec(readme)?.[1]
      expect(block).toBeDefined()
      const manifest = join(yield* scratchDir, "apps.yaml")
      writeFileSync(manifest, block!.replace(/^ {2}/gm, ""))
      process.env["ZSCALER_TOKEN"] = "00readme-token"
      yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env["ZSCALER_TOKEN"]))
      expect(yield* readManifest(manifest)).toEqual([
        {
          id: "0oasimzscaler0000001",
          authScheme: "TOKEN",
          baseUrl: "https://scim.example.com/v2",
          token: "00readme-token",
          status: "ENABLED"
        },
        {
          id: "0oasimorg2orgoauth01",
          authScheme: "OAUTH2",
          rotationMode: "AUTO",
          status: "DISABLED"
        },
        { id: "0oasimslack000000001", status: "DISABLED" }
      ])
    }).pipe(Effect.scoped)
  )

  it.effect("a wrong, missing or misplaced field says what it takes, once per place", () =>
    Effect.gen(function* () {
      const dir = yield* scratchDir
      const read = (apps: ReadonlyArray<Record<string, unknown>>) => {
        const manifest = join(dir, "apps.json")
        writeFileSync(manifest, JSON.stringify({ apps }))
        return Effect.map(Effect.flip(readManifest(manifest)), (error) =>
          error.message.slice(manifest.length + 2)
        )
      }
      // Okta's own example spells the scheme OAUTH; the manifest takes OAUTH2, and says so.
      expect(yield* read([{ id: ID, authScheme: "OAUTH" }])).toBe(
        "apps[0].authScheme: must be TOKEN or OAUTH2"
      )
      // An id alone: either would do.
      expect(yield* read([{ id: ID }])).toBe(
        "apps[0].authScheme: is missing (TOKEN or OAUTH2), or give a status alone (ENABLED or DISABLED)"
      )
      // A status alone leaves the connection as it is; with any setting, the scheme is needed.
      const statusOnly = join(dir, "status.json")
      writeFileSync(statusOnly, JSON.stringify({ apps: [{ id: ID, status: "DISABLED" }] }))
      expect(yield* readManifest(statusOnly)).toEqual([{ id: ID, status: "DISABLED" }])
      expect(yield* read([{ id: ID, status: "disabled" }])).toBe(
        "apps[0].status: must be ENABLED or DISABLED (in capitals: DISABLED)"
      )
      expect(yield* read([{ id: ID, status: "DISABLED", baseUrl: "https://x.example" }])).toBe(
        "apps[0].authScheme: is missing (TOKEN or OAUTH2)"
      )
      // Each place once, though the union's members each refuse it; the values never, but one in
      // the wrong case by the list's spelling.
      const cased = yield* read([
        { id: ID, authScheme: "OAUTH2", status: "enabled", rotationMode: "auto" }
      ])
      expect(cased).toBe(
        "apps[0].rotationMode: must be AUTO or MANUAL (in capitals: AUTO); apps[0].status: must be ENABLED or DISABLED (in capitals: ENABLED)"
      )
      expect(
        yield* read([{ id: ID, authScheme: "OAUTH2", status: "ON", rotationMode: "sometimes" }])
      ).toBe(
        "apps[0].rotationMode: must be AUTO or MANUAL; apps[0].status: must be ENABLED or DISABLED"
      )
      expect(yield* read([{ id: ID, authScheme: "token" }])).toBe(
        "apps[0].authScheme: must be TOKEN or OAUTH2 (in capitals: TOKEN)"
      )
      // A base URL the update would refuse, refused with the manifest, said once.
      expect(yield* read([{ id: ID, authScheme: "TOKEN", baseUrl: "scim.example.com/v2" }])).toBe(
        "apps[0].baseUrl: must be an absolute URL, starting with https://"
      )
      // A reference, or a variable, where no secret goes: it would be sent as its own text.
      const reference =
        "is a variable or a reference: ${env:NAME} and ${file:PATH} stand for token and adminPassword only"
      expect(yield* read([{ id: ID, authScheme: "OAUTH2", clientId: "${env:CLIENT_ID}" }])).toBe(
        `apps[0].clientId: ${reference}`
      )
      expect(
        yield* read([
          { id: ID, authScheme: "OAUTH2", adminUsername: "$ADMIN", adminPassword: "${env:PW}" }
        ])
      ).toBe(`apps[0].adminUsername: ${reference}`)
      expect(
        yield* read([{ id: ID, authScheme: "TOKEN", baseUrl: "https://${SCIM_HOST}/scim" }])
      ).toBe("apps[0].baseUrl: has a variable or placeholder never filled in (${…}, $NAME or {…})")
      // A setting of the other scheme, as an app switched from one to the other keeps it.
      expect(yield* read([{ id: ID, authScheme: "TOKEN", rotationMode: "AUTO" }])).toBe(
        "apps[0].rotationMode: is not allowed: only authScheme OAUTH2 takes it"
      )
      expect(yield* read([{ id: ID, authScheme: "OAUTH2", baseUrl: "https://x.example" }])).toBe(
        "apps[0].baseUrl: is not allowed: only authScheme TOKEN takes it"
      )
      // A field no entry has is said first, with the one meant: without it, a misspelt
      // authScheme was said to be missing, and nothing more.
      // The field meant is all there is to mend: the authScheme it is, or a status alone, is not
      // said to be missing as well.
      expect(yield* read([{ id: ID, auth_scheme: "TOKEN" }])).toBe(
        "apps[0].auth_scheme: is not allowed (did you mean authScheme?)"
      )
      expect(yield* read([{ id: ID, statu: "DISABLED" }])).toBe(
        "apps[0].statu: is not allowed (did you mean status?)"
      )
      // A status with a connection's field (a token) needs the connection's authScheme.
      expect(yield* read([{ id: ID, status: "DISABLED", tokn: "${env:T}" }])).toBe(
        "apps[0].tokn: is not allowed (did you mean token?); apps[0].authScheme: is missing (TOKEN or OAUTH2)"
      )
      expect(yield* read([{ id: ID, authScheme: "TOKEN", BaseURL: "https://x.example" }])).toBe(
        "apps[0].BaseURL: is not allowed (did you mean baseUrl?)"
      )
      // Okta's request body as an entry.
      expect(yield* read([{ id: ID, profile: { authScheme: "TOKEN" } }])).toBe(
        "apps[0].profile: is not allowed: an entry is flat (id, authScheme, baseUrl, token, status, clientId, rotationMode, adminUsername, adminPassword), not Okta's request body; apps[0].authScheme: is missing (TOKEN or OAUTH2)"
      )
    }).pipe(Effect.scoped)
  )

  it.effect("a list that is not one, and the common YAML mistakes, are said as such", () =>
    Effect.gen(function* () {
      const dir = yield* scratchDir
      const read = (text: string) => {
        const manifest = join(dir, "apps.yaml")
        writeFileSync(manifest, text)
        return Effect.map(Effect.flip(readManifest(manifest)), (error) =>
          error.message.slice(manifest.length)
        )
      }
      expect(yield* read("apps:\n")).toBe(": apps: must be a list of apps")
      // The list alone, without its key.
      expect(yield* read(`- id: ${ID}\n  status: ENABLED\n`)).toBe(
        ": is a list; a manifest is a mapping with an apps list (apps: above the list, its entries indented under it)"
      )
      const none = join(dir, "none.yaml")
      expect((yield* Effect.flip(readManifest(none))).message).toBe(
        `cannot read ${none} (no such file)`
      )
      expect(yield* read(`apps:\n  ${ID}: {status: ENABLED}\n`)).toBe(
        ": apps: must be a list of apps"
      )
      expect(yield* read(`apps:\n  - ${ID}\n`)).toBe(
        ": apps[0]: must be a mapping, an app's id and its settings"
      )
      // What is wrong, and where, never the line: the parser's message quotes it.
      expect(yield* read(`apps:\n  - id: ${ID}\n    status: ENABLED\n    status: DISABLED\n`)).toBe(
        " is not YAML or JSON (line 4, column 5: a key given twice)"
      )
      expect(yield* read(`apps:\n\t- id: ${ID}\n`)).toBe(
        " is not YAML or JSON (line 2, column 1: a tab as indentation; YAML indents with spaces)"
      )
      expect(yield* read(`apps:\n  - id: "${ID}\n`)).toBe(
        " is not YAML or JSON (line 3, column 1: a quote or bracket not closed)"
      )
    }).pipe(Effect.scoped)
  )

  it.effect("its faults are named by path, all of them up to eight, never with their values", () =>
    Effect.gen(function* () {
      const dir = yield* scratchDir
      const manifest = join(dir, "apps.json")
      const apps: Array<Record<string, unknown>> = [{ authScheme: "TOKEN" }]
      for (let i = 1; i < 10; i++) {
        apps.push({ id: `0oaapplyfaults00000${i}`, authScheme: "TOKEN", tokne: "00secret" })
      }
      writeFileSync(manifest, JSON.stringify({ apps }))
      const error = yield* Effect.flip(readManifest(manifest))
      expect(error.message).toBe(
        `${manifest}: apps[0].id: is missing; ${[1, 2, 3, 4, 5, 6, 7]
          .map((i) => `apps[${i}].tokne: is not allowed (did you mean token?)`)
          .join("; ")}`
      )
    }).pipe(Effect.scoped)
  )
})

describe("one app, where Okta answers other than the simulated org", () => {
  const APP_ID = AppId.make(ID)
  const tokenApp = (status: string): ProvisioningConnectionResponse => ({
    status,
    baseUrl: "https://scim.example.com/a",
    profile: { authScheme: "TOKEN" }
  })

  it("a status that is neither ENABLED nor DISABLED (Okta's enum is open) is set as the manifest says", () => {
    for (const [wanted, lifecycle] of [
      ["ENABLED", "activate"],
      ["DISABLED", "deactivate"]
    ] as const) {
      for (const now of ["UNKNOWN", "SUSPENDED"]) {
        const plan = planFor(
          { id: APP_ID, authScheme: "TOKEN", status: wanted },
          tokenApp(now),
          false
        )
        expect(plan.lifecycle).toBe(lifecycle)
        expect(plan.changes).toEqual([`${lifecycle} (${now} → ${wanted})`])
      }
    }
  })

  it("a status alone sets the status only, and is refused for an app without provisioning", () => {
    const plan = planFor({ id: APP_ID, status: "DISABLED" }, tokenApp("ENABLED"), true)
    expect(plan).toEqual({
      app: { id: APP_ID, status: "DISABLED" },
      update: undefined,
      lifecycle: "deactivate",
      activateWithUpdate: false,
      changes: ["deactivate (ENABLED → DISABLED)"]
    })
    // A scheme Okta does not name, on a connection it shows ENABLED: its status is still set.
    const unnamed = planFor(
      { id: APP_ID, status: "DISABLED" },
      { status: "ENABLED", profile: { authScheme: "UNKNOWN" } },
      false
    )
    expect(unnamed.lifecycle).toBe("deactivate")
    // A bookmark app, as Okta answers it: activate would be taken, and change nothing, every run.
    const bookmark = planFor(
      { id: APP_ID, status: "ENABLED" },
      { status: "UNKNOWN", profile: { authScheme: "UNKNOWN" } },
      false
    )
    expect(bookmark).toMatchObject({ lifecycle: undefined, update: undefined, changes: [] })
    expect(bookmark.refused).toMatch(/^Okta shows no provisioning connection for it/)
  })

  it.effect(
    "an update Okta answers ENABLED, though not asked to activate, is deactivated as the manifest says",
    () => {
      // A scripted org (test/support, built from the sources: the same service, by its tag's key).
      const { requests, layer } = connectionsWith((request) =>
        json(
          200,
          tokenApp(
            request.method === "POST" && request.path.endsWith("/default") ? "ENABLED" : "DISABLED"
          )
        )
      )
      return Effect.gen(function* () {
        const api = yield* ApplicationConnections
        const plan = planFor(
          {
            id: APP_ID,
            authScheme: "TOKEN",
            baseUrl: "https://scim.example.com/b",
            status: "DISABLED"
          },
          tokenApp("DISABLED"),
          false
        )
        expect(plan).toMatchObject({ lifecycle: undefined, activateWithUpdate: false })
        yield* applyStep(api, plan)
        expect(requests.map((r) => [r.method, r.path, r.query])).toEqual([
          ["POST", `/api/v1/apps/${ID}/connections/default`, {}],
          ["POST", `/api/v1/apps/${ID}/connections/default/lifecycle/deactivate`, {}]
        ])
      }).pipe(Effect.provide(layer))
    }
  )

  it.effect(
    "an update sent with activate=true that Okta answers DISABLED is followed by the activation, for an app that was enabled too",
    () => {
      // Okta answers an update DISABLED, whatever it was asked; activate and deactivate as asked.
      const { requests, layer } = connectionsWith((request) =>
        request.path.endsWith("/default") ? json(200, tokenApp("DISABLED")) : empty(204)
      )
      const update = { id: APP_ID, authScheme: "TOKEN", baseUrl: "https://scim.example.com/b" }
      return Effect.gen(function* () {
        const api = yield* ApplicationConnections
        for (const [wanted, now, activates] of [
          // Enabled, and to stay so: as the manifest says, or as a manifest without a status.
          ["ENABLED", "ENABLED", true],
          [undefined, "ENABLED", true],
          // Disabled, and to become enabled (the plan's own activation).
          ["ENABLED", "DISABLED", true],
          // Disabled, and left so: nothing more than the update.
          [undefined, "DISABLED", false]
        ] as const) {
          requests.length = 0
          const plan = planFor(
            { ...update, ...(wanted !== undefined ? { status: wanted } : {}) } as ManifestApp,
            tokenApp(now),
            false
          )
          yield* applyStep(api, plan)
          expect([wanted, now, requests.map((r) => [r.method, r.path, r.query])]).toEqual([
            wanted,
            now,
            [
              [
                "POST",
                `/api/v1/apps/${ID}/connections/default`,
                activates ? { activate: "true" } : {}
              ],
              ...(activates
                ? [["POST", `/api/v1/apps/${ID}/connections/default/lifecycle/activate`, {}]]
                : [])
            ]
          ])
        }
      }).pipe(Effect.provide(layer))
    }
  )
})
