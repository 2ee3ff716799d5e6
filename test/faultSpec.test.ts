/**
 * `--fault SPEC` of the standalone simulator: every kind reads as the fault `injectFault` takes,
 * with its settings, and a spec that names no fault or a setting it cannot take is refused with
 * the reason (`okta-connections simulator`, which `npm run simulator` runs, then exits 2 with it;
 * test/cli.test.ts runs it).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { parseFaultSpec } from "../cli/faultSpec.js"

// The spec read, or the reason it was refused; each throws if the other came.
const ok = (text: string) => Either.getOrThrow(parseFaultSpec(text))
const refused = (text: string) => Either.getOrThrow(Either.flip(parseFaultSpec(text)))

describe("--fault SPEC", () => {
  it("reads every kind as the simulator's fault, armed once by default", () => {
    const cases: ReadonlyArray<readonly [string, unknown]> = [
      ["503", { _tag: "ServerError", status: 503, body: "json" }],
      ["502:html", { _tag: "ServerError", status: 502, body: "html" }],
      ["502:HTML", { _tag: "ServerError", status: 502, body: "html" }],
      ["500:gateway", { _tag: "ServerError", status: 500, body: "gateway" }],
      ["504:empty", { _tag: "ServerError", status: 504, body: "empty" }],
      ["drop", { _tag: "Drop" }],
      ["hang", { _tag: "Hang" }],
      ["delay:2500", { _tag: "Delay", millis: 2500 }],
      ["malformed-json", { _tag: "MalformedJson" }],
      ["wrong-shape", { _tag: "WrongShape" }],
      ["extra-fields", { _tag: "ExtraFields" }],
      ["rate-limit-no-date", { _tag: "RateLimitNoDate" }],
      ["duplicate-reset", { _tag: "DuplicateReset" }],
      ["redirect", { _tag: "Redirect", location: undefined }],
      ["redirect:https://evil.example/x", { _tag: "Redirect", location: "https://evil.example/x" }],
      ["oversized", { _tag: "Oversized", bytes: undefined }],
      ["oversized:3000000", { _tag: "Oversized", bytes: 3_000_000 }],
      ["Proxy-Page", { _tag: "ProxyPage" }]
    ]
    for (const [text, fault] of cases) {
      expect(ok(text)).toEqual({
        fault,
        options: { times: undefined, method: undefined, path: undefined },
        text
      })
    }
  })

  it("reads times, method, path and a 5xx's retry-after", () => {
    expect(ok("503:html,times=3,method=post,path=/lifecycle/activate,retry-after=7")).toEqual({
      fault: { _tag: "ServerError", status: 503, body: "html", retryAfterSeconds: 7 },
      options: { times: 3, method: "POST", path: "/lifecycle/activate" },
      text: "503:html,times=3,method=post,path=/lifecycle/activate,retry-after=7"
    })
    expect(ok("drop,times=always,path=/jwks").options).toEqual({
      times: Number.POSITIVE_INFINITY,
      method: undefined,
      path: "/jwks"
    })
  })

  it("refuses a spec it cannot arm, saying why and what it takes", () => {
    const reasons: ReadonlyArray<readonly [string, string]> = [
      ["", "no fault named"],
      ["501", 'no fault named "501": the statuses are 500, 502, 503 and 504'],
      ["flaky", 'no fault named "flaky" (expected'],
      // A typo, with what it may have meant; Okta's 429, with where it comes from.
      ["drpo,times=2", 'no fault named "drpo" (did you mean drop?)'],
      ["malformed_json", 'no fault named "malformed_json" (did you mean malformed-json?)'],
      [
        "429",
        'no fault named "429": a 429 comes from the rate limit, --rate-limit N (per --window-seconds) or --concurrency-limit N'
      ],
      ["503,time=2", '"time" is not one of times, method, path, retry-after (did you mean times?)'],
      // A setting is not taken for a fault's kind.
      ["503,drp=1", '"drp" is not one of times, method, path, retry-after (expected'],
      ["503:xml", 'a 503\'s body is json, html, gateway or empty, not "xml"'],
      ["delay", "delay takes its milliseconds"],
      ["delay:-5", "delay takes its milliseconds"],
      ["delay:1.5", "delay takes its milliseconds"],
      ["oversized:0", "oversized takes a number of bytes, at least 1"],
      ["redirect:/relative", 'a redirect\'s location is an absolute URL, not "/relative"'],
      ["drop:3", 'drop takes no ":" argument'],
      ["503,times=0", "times is a whole number, at least 1, or always"],
      ["503,times=Infinity", "times is a whole number, at least 1, or always"],
      ["503,times", '"times" is not key=value'],
      ["503,method=GET /x", '"GET /x" is not a method'],
      ["503,retry-after=-1", "retry-after is whole seconds, 0 or more"],
      ["drop,retry-after=3", "retry-after goes with a 5xx only"],
      ["503,limit=3", '"limit" is not one of times, method, path, retry-after']
    ]
    for (const [text, reason] of reasons) {
      const message = refused(text)
      expect(message).toContain(`--fault ${JSON.stringify(text)}: ${reason}`)
      expect(message).toContain("(expected KIND[,times=N|always]")
    }
  })
})
