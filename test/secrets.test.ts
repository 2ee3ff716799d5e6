/**
 * The scrub that keeps what the client holds for a call out of what a server says back.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { scrub } from "../src/internal/secrets.js"

const PROPS = { fastCheck: { seed: 20261207, numRuns: 500 } }

/** The forms a server may echo a secret in: as sent, URL-encoded, form-encoded, JSON-escaped. */
const forms = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ s: secret }).toString().slice(2),
  JSON.stringify(secret).slice(1, -1)
]

describe("scrub", () => {
  it.prop(
    "no form of a secret survives, whatever surrounds it, and nothing else is touched",
    [
      FastCheck.string({ unit: "grapheme", minLength: 4, maxLength: 40 }),
      FastCheck.nat(3),
      FastCheck.string({ unit: "grapheme-ascii", maxLength: 20 }),
      FastCheck.string({ unit: "grapheme-ascii", maxLength: 20 })
    ],
    ([secret, which, before, after]) => {
      const form = forms(secret)[which]!
      // What surrounds it is kept when it holds no form of the secret itself.
      FastCheck.pre(!forms(secret).some((f) => `${before}${after}`.includes(f)))
      expect(scrub(`${before}${form}${after}`, [secret])).toBe(`${before}<redacted>${after}`)
    },
    PROPS
  )

  it("leaves a text shorter than every secret as it is, and short secrets unscrubbed", () => {
    const token = "00abcdefghijklmnopqrstuvwxyz0123456789ABCD"
    expect(scrub("XVRn6r3Wn7w3GIl5XqFDRuKo", [`SSWS ${token}`, token])).toBe(
      "XVRn6r3Wn7w3GIl5XqFDRuKo"
    )
    expect(scrub(`id ${token}`, [`SSWS ${token}`, token])).toBe("id <redacted>")
    expect(scrub("abc", ["abc"])).toBe("abc")
  })
})
