/**
 * `--fault SPEC` of the standalone simulator (`npm run simulator`, `okta-connections simulator`):
 * one of the simulator's faults, armed when it starts, written on one command line. Kept apart
 * from cli/simulatorRun.ts so that the CLI can refuse a bad spec without loading the simulator.
 */
import type { FaultOptions, SimulatorFault } from "effect-okta-connections/testing"
import * as Either from "effect/Either"
import { nearest } from "../src/internal/nearest.js"

/** A fault and the requests it applies to, as `OktaSimulator.injectFault` takes them. */
export interface FaultSpec {
  readonly fault: SimulatorFault
  readonly options: FaultOptions
  /** The spec as given, for the start-up lines. */
  readonly text: string
}

/** The grammar, for `--help` and for every refusal. */
export const FAULT_SPEC_HELP =
  "KIND[,times=N|always][,method=M][,path=SUBSTRING][,retry-after=S]; KIND is one of " +
  "500|502|503|504[:json|html|gateway|empty], drop, hang, delay:MS, malformed-json, " +
  "wrong-shape, extra-fields, rate-limit-no-date, duplicate-reset, redirect[:URL], " +
  "oversized[:BYTES], proxy-page"

const wholeNumber = (text: string, min: number): number | undefined =>
  /^\d+$/.test(text) && Number(text) >= min && Number.isSafeInteger(Number(text))
    ? Number(text)
    : undefined

const simple: Record<string, SimulatorFault> = {
  drop: { _tag: "Drop" },
  hang: { _tag: "Hang" },
  "malformed-json": { _tag: "MalformedJson" },
  "wrong-shape": { _tag: "WrongShape" },
  "extra-fields": { _tag: "ExtraFields" },
  "rate-limit-no-date": { _tag: "RateLimitNoDate" },
  "duplicate-reset": { _tag: "DuplicateReset" },
  "proxy-page": { _tag: "ProxyPage" }
}

// What a typo may have meant: a fault's kind (those above, or one that takes a ":" argument), or a
// setting.
const KINDS = [...Object.keys(simple), "delay", "redirect", "oversized"]
const SETTINGS = ["times", "method", "path", "retry-after"]
const didYouMean = (typo: string, known: ReadonlyArray<string>) => {
  const meant = nearest(typo, known)
  return meant !== undefined ? ` (did you mean ${meant}?)` : ""
}

/**
 * Reads one `--fault` value, e.g. `503:html,times=3` or `drop,path=/jwks,times=always`.
 * A spec that names no fault, or a setting the fault cannot take, is refused with the reason.
 */
export const parseFaultSpec = (text: string): Either.Either<FaultSpec, string> => {
  const refuse = (reason: string) =>
    Either.left(`--fault ${JSON.stringify(text)}: ${reason} (expected ${FAULT_SPEC_HELP})`)
  const [head = "", ...settings] = text.split(",")
  const colon = head.indexOf(":")
  const kind = (colon < 0 ? head : head.slice(0, colon)).trim().toLowerCase()
  const argument = colon < 0 ? undefined : head.slice(colon + 1).trim()
  let fault: SimulatorFault
  if (/^50[0234]$/.test(kind)) {
    const body = argument?.toLowerCase() ?? "json"
    if (body !== "json" && body !== "html" && body !== "gateway" && body !== "empty") {
      return refuse(`a ${kind}'s body is json, html, gateway or empty, not ${JSON.stringify(body)}`)
    }
    fault = { _tag: "ServerError", status: Number(kind) as 500 | 502 | 503 | 504, body }
  } else if (kind === "delay") {
    const millis = argument === undefined ? undefined : wholeNumber(argument, 0)
    if (millis === undefined) return refuse("delay takes its milliseconds, e.g. delay:2000")
    fault = { _tag: "Delay", millis }
  } else if (kind === "redirect") {
    if (argument !== undefined && !URL.canParse(argument)) {
      return refuse(`a redirect's location is an absolute URL, not ${JSON.stringify(argument)}`)
    }
    fault = { _tag: "Redirect", location: argument }
  } else if (kind === "oversized") {
    const bytes = argument === undefined ? undefined : wholeNumber(argument, 1)
    if (argument !== undefined && bytes === undefined) {
      return refuse("oversized takes a number of bytes, at least 1, e.g. oversized:2000000")
    }
    fault = { _tag: "Oversized", bytes }
  } else if (Object.hasOwn(simple, kind)) {
    if (argument !== undefined) return refuse(`${kind} takes no ":" argument`)
    fault = simple[kind]!
  } else {
    return refuse(
      kind === ""
        ? "no fault named"
        : kind === "429"
          ? // Okta's 429 is the rate limit's: the simulator's own, not a fault.
            'no fault named "429": a 429 comes from the rate limit, --rate-limit N (per --window-seconds) or --concurrency-limit N'
          : /^\d+$/.test(kind)
            ? `no fault named ${JSON.stringify(kind)}: the statuses are 500, 502, 503 and 504`
            : `no fault named ${JSON.stringify(kind)}${didYouMean(kind, KINDS)}`
    )
  }
  let times: number | undefined
  let method: string | undefined
  let path: string | undefined
  let retryAfterSeconds: number | undefined
  for (const setting of settings) {
    const equals = setting.indexOf("=")
    const key = (equals < 0 ? setting : setting.slice(0, equals)).trim().toLowerCase()
    const value = equals < 0 ? "" : setting.slice(equals + 1).trim()
    if (value === "") return refuse(`${JSON.stringify(setting)} is not key=value`)
    if (key === "times") {
      times = value === "always" ? Number.POSITIVE_INFINITY : wholeNumber(value, 1)
      if (times === undefined) return refuse("times is a whole number, at least 1, or always")
    } else if (key === "method") {
      if (!/^[A-Za-z]+$/.test(value)) return refuse(`${JSON.stringify(value)} is not a method`)
      method = value.toUpperCase()
    } else if (key === "path") {
      path = value
    } else if (key === "retry-after" && fault._tag === "ServerError") {
      retryAfterSeconds = wholeNumber(value, 0)
      if (retryAfterSeconds === undefined) return refuse("retry-after is whole seconds, 0 or more")
    } else {
      return refuse(
        key === "retry-after"
          ? "retry-after goes with a 5xx only"
          : `${JSON.stringify(key)} is not one of times, method, path, retry-after${didYouMean(key, SETTINGS)}`
      )
    }
  }
  if (fault._tag === "ServerError" && retryAfterSeconds !== undefined) {
    fault = { ...fault, retryAfterSeconds }
  }
  return Either.right({ fault, options: { times, method, path }, text })
}
