/**
 * `--oauth-client ID=KEYFILE` of the standalone simulator: the key file the client signs with (a
 * PEM or a JWK, private or public) registers its public key only, `kid` kept; a spec it cannot
 * register is refused with the reason, and never with the file's content (test/cli.test.ts runs
 * the CLI's PrivateKey mode against a simulator started with it).
 */
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { generateKeyPairSync } from "node:crypto"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { parseOAuthClientSpec } from "../cli/oauthClientSpec.js"

const dir = mkdtempSync(join(tmpdir(), "okta-oauth-client-spec-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const file = (name: string, content: string) => {
  const path = join(dir, name)
  writeFileSync(path, content)
  return path
}

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 })
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" })
const publicJwk = (key: typeof rsa.publicKey) => key.export({ format: "jwk" })

// The app registered, or the reason it was refused; each throws if the other came.
const registered = (text: string) => Either.getOrThrow(parseOAuthClientSpec(text))
const refusal = (text: string) => Either.getOrThrow(Either.flip(parseOAuthClientSpec(text)))

describe("--oauth-client ID=KEYFILE", () => {
  it("registers the public half of a private key, PKCS#8, PKCS#1 or SEC1", () => {
    const keys = [
      ["pkcs8.pem", rsa.privateKey.export({ type: "pkcs8", format: "pem" }), rsa.publicKey],
      ["pkcs1.pem", rsa.privateKey.export({ type: "pkcs1", format: "pem" }), rsa.publicKey],
      ["sec1.pem", ec.privateKey.export({ type: "sec1", format: "pem" }), ec.publicKey]
    ] as const
    for (const [name, pem, publicKey] of keys) {
      const client = registered(` 0oaservice = ${file(name, String(pem))} `)
      expect(client).toEqual({ clientId: "0oaservice", publicKey: publicJwk(publicKey) })
    }
    // `~/` is the home directory, as in OKTA_CLIENT_PRIVATEKEY: no shell expands it after `=`.
    const home = process.env["HOME"]
    process.env["HOME"] = dir
    try {
      expect(registered("svc=~/pkcs8.pem").publicKey).toEqual(publicJwk(rsa.publicKey))
    } finally {
      if (home === undefined) delete process.env["HOME"]
      else process.env["HOME"] = home
    }
  })

  it("registers a public key as it is, and a JWK's public members with its kid", () => {
    const spki = file("public.pem", String(rsa.publicKey.export({ type: "spki", format: "pem" })))
    expect(registered(`svc=${spki}`).publicKey).toEqual(publicJwk(rsa.publicKey))
    const privateJwk = { ...rsa.privateKey.export({ format: "jwk" }), kid: "key-2026", use: "sig" }
    const { publicKey } = registered(`svc=${file("key.json", JSON.stringify(privateJwk))}`)
    expect(publicKey).toEqual({ ...publicJwk(rsa.publicKey), kid: "key-2026" })
    expect(publicKey).not.toHaveProperty("d")
    // The JWK of a public key: the same key.
    const ecJwk = file("ec.jwk", JSON.stringify(publicJwk(ec.publicKey)))
    expect(registered(`ec=${ecJwk}`).publicKey).toEqual(publicJwk(ec.publicKey))
  })

  it("refuses what it cannot register, saying why and never what the file holds", () => {
    const notAKey = file("not-a-key.pem", "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWlzaA==\n-----END")
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["0oaservice", "give a client id and a key file"],
      [`=${notAKey}`, "give a client id and a key file"],
      ["svc=", "give a client id and a key file"],
      [`svc=${join(dir, "missing.pem")}`, `cannot read ${join(dir, "missing.pem")} (no such file)`],
      [`svc=${dir}`, `cannot read ${dir} (it is a directory)`],
      [`svc=${notAKey}`, `${notAKey} holds no key this simulator can read`],
      [
        `svc=${file("symmetric.json", JSON.stringify({ kty: "oct", k: "c2VjcmV0LWlzaA" }))}`,
        "holds no key this simulator can read"
      ]
    ]
    for (const [text, reason] of cases) {
      const message = refusal(text)
      expect(message).toContain(`--oauth-client ${JSON.stringify(text)}: `)
      expect(message).toContain(reason)
      expect(message).toContain("(expected CLIENT_ID=KEYFILE, where KEYFILE holds")
      expect(message).not.toContain("c2VjcmV0LWlzaA")
    }
  })
})
