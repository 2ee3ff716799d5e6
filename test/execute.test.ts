/**
 * `OktaClient.execute`, the public extension point, as the README shows it: another Okta endpoint
 * through the same client, with its credentials, typed errors and capped, once-read body.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Layer, Option, Redacted, Schedule, Schema, Stream } from "effect"
import { OktaClient, type OktaRequest, RetryPolicy } from "effect-okta-connections"
import { withAdvancingClock } from "effect-okta-connections/testing"
import { readFileSync } from "node:fs"
import { empty, json, ORG, scriptedHttp, TOKEN } from "./support/TestHttp.js"

// The README's snippet, verbatim.
const App = Schema.Struct({ id: Schema.String, label: Schema.String })

const getApp = (appId: string) =>
  Effect.flatMap(OktaClient, (client) =>
    client.execute(
      {
        operation: "getApplication",
        method: "GET",
        path: `/api/v1/apps/${encodeURIComponent(appId)}`
      },
      (response) => response.json(App)
    )
  )

// --- README: pagination (its imports and App as above) ---
const nextPage = (link: string | undefined): Option.Option<string> => {
  const next = link?.match(/<([^>]+)>;\s*rel="next"/)?.[1]
  if (next === undefined) return Option.none()
  const url = new URL(next, "https://org.invalid")
  return Option.some(url.pathname + url.search)
}

export const listApps = Stream.paginateChunkEffect("/api/v1/apps?limit=100", (path) =>
  Effect.flatMap(OktaClient, (client) =>
    client.execute({ operation: "listApplications", method: "GET", path }, (response) =>
      Effect.map(
        response.json(Schema.Array(App)),
        (apps) => [Chunk.fromIterable(apps), nextPage(response.headers["link"])] as const
      )
    )
  )
)
// --- end ---

/** The client over `handler`, not retrying unless `retry` says so. */
const clientOver = (
  handler: Parameters<typeof scriptedHttp>[0],
  retry: RetryPolicy.RetryPolicy | false = false
) => {
  const http = scriptedHttp(handler)
  return {
    requests: http.requests,
    layer: OktaClient.layer({ orgUrl: ORG, apiToken: Redacted.make(TOKEN), retry }).pipe(
      Layer.provide(http.layer)
    )
  }
}

const everySecond = RetryPolicy.make({ backoff: Schedule.spaced("1 second") })

describe("OktaClient.execute", () => {
  it.effect("sends the request with the client's credentials and decodes the 2xx body", () =>
    Effect.gen(function* () {
      const { layer, requests } = clientOver(() =>
        json(200, { id: "0oa1", label: "Acme", extra: true })
      )
      const app = yield* Effect.provide(getApp("0oa1"), layer)
      expect(app).toEqual({ id: "0oa1", label: "Acme" })
      expect(requests[0]).toMatchObject({
        method: "GET",
        url: new URL(`${ORG}/api/v1/apps/0oa1`),
        headers: { authorization: `SSWS ${TOKEN}`, accept: "application/json" }
      })
    })
  )

  it.effect("a non-2xx is the typed error; a body of the wrong shape is OktaDecodeError", () =>
    Effect.gen(function* () {
      const missing = clientOver(() =>
        json(404, { errorCode: "E0000007", errorSummary: "Not found: Resource not found: 0oa9" })
      )
      expect(yield* Effect.flip(Effect.provide(getApp("0oa9"), missing.layer))).toMatchObject({
        _tag: "OktaNotFoundError",
        operation: "getApplication",
        errorCode: "E0000007"
      })
      const wrong = clientOver(() => json(200, { id: 1 }))
      const error = yield* Effect.flip(Effect.provide(getApp("0oa1"), wrong.layer))
      expect(error).toMatchObject({ _tag: "OktaDecodeError", kind: "Schema" })
      expect(error.message).toContain("label")
    })
  )

  it.effect("a body off the caller's schema: its issues name places and kinds, never values", () =>
    Effect.gen(function* () {
      const Listed = Schema.Struct({
        id: Schema.String,
        label: Schema.String,
        status: Schema.optional(Schema.Literal("ACTIVE", "INACTIVE")),
        features: Schema.Array(Schema.String),
        tags: Schema.optional(Schema.Array(Schema.String))
      })
      const issuesOf = (body: unknown) =>
        Effect.gen(function* () {
          const { layer } = clientOver(() => json(200, body))
          const error = yield* Effect.flip(
            Effect.provide(
              Effect.flatMap(OktaClient, (client) =>
                client.execute(
                  { operation: "listApplications", method: "GET", path: "/api/v1/apps" },
                  (r) => r.json(Schema.Array(Listed))
                )
              ),
              layer
            )
          )
          if (error._tag !== "OktaDecodeError") throw new Error(error._tag)
          expect(error.kind).toBe("Schema")
          return error.issues
        })
      const issues = yield* issuesOf([
        { id: "0oa1", label: "Acme", features: [] },
        { id: 2, label: null, status: 3, features: { push: "s3cret-value" }, tags: ["a", 1] }
      ])
      expect(issues).toBe(
        "[1].id: expected string, got a number; [1].label: expected string, got null; " +
          '[1].status: expected "ACTIVE" | "INACTIVE", got a number; ' +
          "[1].features: expected an array, got an object; [1].tags[1]: expected string, got a number"
      )
      expect(issues).not.toContain("s3cret")
      // Eight places at most, then how many more.
      expect(yield* issuesOf(["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"])).toBe(
        [...Array(8).keys()].map((i) => `[${i}]: expected an object, got a string`).join("; ") +
          "; … and 2 more"
      )
    })
  )

  it.effect("a query written into the path is sent, but never named in an error", () =>
    Effect.gen(function* () {
      const { layer, requests } = clientOver(() =>
        json(404, { errorCode: "E0000007", errorSummary: "Not found: Resource not found: 0oa9" })
      )
      const error = yield* Effect.flip(
        Effect.provide(
          Effect.flatMap(OktaClient, (client) =>
            client.execute(
              { operation: "getApplication", method: "GET", path: "/api/v1/apps/0oa9?code=s3cret" },
              (response) => response.json(App)
            )
          ),
          layer
        )
      )
      expect(requests[0]?.url.search).toBe("?code=s3cret")
      expect(error).toMatchObject({ _tag: "OktaNotFoundError", path: "/api/v1/apps/0oa9" })
      expect(JSON.stringify(error) + error.message).not.toContain("s3cret")
    })
  )

  it.effect(
    "a segment that only looks like a dot segment, or one in the query, goes as written",
    () =>
      Effect.gen(function* () {
        const { layer, requests } = clientOver(() => json(200, {}))
        const send = (path: string) =>
          Effect.provide(
            Effect.flatMap(OktaClient, (client) =>
              client.execute({ operation: "x", method: "GET", path }, () => Effect.void)
            ),
            layer
          )
        yield* send("/api/v1/apps/.x/...")
        yield* send("/api/v1/apps?q=/../")
        expect(requests.map(({ url }) => [url.pathname, url.search])).toEqual([
          ["/api/v1/apps/.x/...", ""],
          ["/api/v1/apps", "?q=/../"]
        ])
      })
  )

  it.effect("the README's pagination follows rel=\"next\" links, always to the client's org", () =>
    Effect.gen(function* () {
      const { layer, requests } = clientOver((request) =>
        request.query["after"] === undefined
          ? json(
              200,
              [
                { id: "0oa1", label: "One" },
                { id: "0oa2", label: "Two" }
              ],
              {
                // Two links, as Okta sends them; the next one names another host.
                link: '<https://acme.okta.com/api/v1/apps?limit=100>; rel="self", <https://elsewhere.example/api/v1/apps?after=0oa2&limit=100>; rel="next"'
              }
            )
          : json(200, [{ id: "0oa3", label: "Three" }], {
              link: '<https://acme.okta.com/api/v1/apps?after=0oa2&limit=100>; rel="self"'
            })
      )
      const apps = yield* Effect.provide(Stream.runCollect(listApps), layer)
      expect(Chunk.toReadonlyArray(apps).map((app) => app.id)).toEqual(["0oa1", "0oa2", "0oa3"])
      expect(requests.map((r) => [r.url.href, r.headers["authorization"]])).toEqual([
        [`${ORG}/api/v1/apps?limit=100`, `SSWS ${TOKEN}`],
        [`${ORG}/api/v1/apps?after=0oa2&limit=100`, `SSWS ${TOKEN}`]
      ])
      // The code tested here is the README's.
      const source = readFileSync(new URL(import.meta.url), "utf8")
      const region = /\/\/ --- README: pagination[^\n]*\n([\s\S]*?)\/\/ --- end ---/.exec(source)
      const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
      expect(readme).toContain(region?.[1]?.trim())
    })
  )

  it.effect("PUT, PATCH and DELETE go out as given, a body as JSON", () =>
    Effect.gen(function* () {
      const { layer, requests } = clientOver((request) =>
        request.method === "DELETE" ? empty(204) : json(200, { id: "0oa1", label: "Renamed" })
      )
      const send = (method: OktaRequest["method"], body?: unknown) =>
        Effect.flatMap(OktaClient, (client) =>
          client.execute({ operation: "app", method, path: "/api/v1/apps/0oa1", body }, (r) =>
            method === "DELETE" ? Effect.void : r.json(App)
          )
        )
      yield* Effect.provide(
        Effect.all([
          send("PUT", { label: "Renamed" }),
          send("PATCH", { label: "Renamed" }),
          send("DELETE")
        ]),
        layer
      )
      expect(requests.map((r) => [r.method, r.body, r.headers["content-type"]])).toEqual([
        ["PUT", { label: "Renamed" }, "application/json"],
        ["PATCH", { label: "Renamed" }, "application/json"],
        ["DELETE", undefined, undefined]
      ])
    })
  )

  it.effect(
    "after a 503 GET, PUT and DELETE are sent again by default; POST and PATCH only when replaySafe",
    () =>
      Effect.gen(function* () {
        const sent = (method: OktaRequest["method"], replaySafe?: boolean) =>
          Effect.gen(function* () {
            let n = 0
            const { layer, requests } = clientOver(
              () => (n++ === 0 ? json(503, {}) : empty(204)),
              everySecond
            )
            const call = Effect.flatMap(OktaClient, (client) =>
              client.execute(
                { operation: "op", method, path: "/api/v1/x", replaySafe },
                () => Effect.void
              )
            )
            yield* Effect.either(withAdvancingClock(Effect.provide(call, layer)))
            return requests.length
          })
        expect(yield* sent("GET")).toBe(2)
        expect(yield* sent("PUT")).toBe(2)
        expect(yield* sent("DELETE")).toBe(2)
        expect(yield* sent("POST")).toBe(1)
        expect(yield* sent("PATCH")).toBe(1)
        expect(yield* sent("POST", true)).toBe(2)
        expect(yield* sent("GET", false)).toBe(1)
      })
  )

  it.effect("a decoder's own error comes back as it is, after a retried request too", () =>
    Effect.gen(function* () {
      // The application's class, with a field that happens to share the client's name for the
      // count of requests a call sent: its value is the application's.
      class Unusable extends Schema.TaggedError<Unusable>()("Unusable", {
        attempts: Schema.Number
      }) {}
      const mine = new Unusable({ attempts: 7 })
      let n = 0
      const { layer, requests } = clientOver(
        () => (n++ === 0 ? json(503, {}) : json(200, { id: "0oa1" })),
        everySecond
      )
      const call = Effect.flatMap(OktaClient, (client) =>
        client.execute({ operation: "op", method: "GET", path: "/api/v1/x" }, () =>
          Effect.fail(mine)
        )
      )
      const error = yield* Effect.flip(withAdvancingClock(Effect.provide(call, layer)))
      expect(requests).toHaveLength(2)
      expect(error).toBe(mine)
    })
  )
})
