import { createHash } from "node:crypto"
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck, JSONSchema, ParseResult, Schema } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { parse } from "yaml"
import {
  AppConnectionUserProvisionJWKResponse,
  AppId,
  HrefObject,
  JsonWebKey,
  OAuthProvisioningEnabledApp,
  OktaErrorBody,
  ProvisioningConnectionOauthRequest,
  ProvisioningConnectionTokenRequest,
  ProvisioningConnectionResponse,
  ProvisioningConnectionStatus,
  UpdateDefaultProvisioningConnectionForApplicationRequest
} from "../src/index.js"

// Property tests run with a fixed seed: deterministic in CI, and a failure reproduces exactly.
const PROPS = { fastCheck: { seed: 20261127, numRuns: 300 } }

// The contract, Okta's spec copied unchanged (a test below pins its digest).
const contractPath = fileURLToPath(
  new URL("./fixtures/application-connections.openapi.yaml", import.meta.url)
)
const contractText = readFileSync(contractPath, "utf8")

interface Contract {
  readonly paths: Record<string, Record<string, unknown>>
  readonly components: { readonly examples: Record<string, { readonly value: unknown }> }
}
const contract = parse(contractText) as Contract

/** Which schema each named example belongs to, read from where the contract references it. */
const examplesBySchema = (): Map<string, "request" | "connection" | "jwks" | "error"> => {
  const kinds = new Map<string, "request" | "connection" | "jwks" | "error">()
  const refName = (ref: unknown) => String(ref).replace("#/components/examples/", "")
  const collect = (
    node: unknown,
    kind: (ref: string) => "request" | "connection" | "jwks" | "error"
  ) => {
    if (node === null || typeof node !== "object") return
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && String(value).startsWith("#/components/examples/")) {
        kinds.set(refName(value), kind(refName(value)))
      } else collect(value, kind)
    }
  }
  for (const item of Object.values(contract.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === "parameters") continue
      const o = op as { requestBody?: unknown; responses: Record<string, unknown> }
      collect(o.requestBody, () => "request")
      for (const [status, response] of Object.entries(o.responses)) {
        if (status.startsWith("2")) {
          collect(response, (name) => (name.includes("JsonWebKeys") ? "jwks" : "connection"))
        }
      }
    }
  }
  for (const name of Object.keys(contract.components.examples)) {
    if (name.startsWith("Error")) kinds.set(name, "error")
  }
  return kinds
}

const schemaOf = {
  request: UpdateDefaultProvisioningConnectionForApplicationRequest,
  connection: ProvisioningConnectionResponse,
  jwks: AppConnectionUserProvisionJWKResponse,
  error: OktaErrorBody
} as const

describe("every example in the contract decodes", () => {
  const kinds = examplesBySchema()

  it("every named example is classified", () => {
    expect([...kinds.keys()].sort()).toEqual(Object.keys(contract.components.examples).sort())
    expect(kinds.size).toBe(14)
  })

  for (const [name, kind] of kinds) {
    it(`${name} (${kind})`, () => {
      const value = contract.components.examples[name]!.value
      const decoded = Schema.decodeUnknownEither(schemaOf[kind] as Schema.Schema<unknown>)(value)
      expect(Either.isRight(decoded), Either.isLeft(decoded) ? String(decoded.left) : "").toBe(true)
      if (name === "ProvisioningConnectionOAuthOrg2OrgWithRotationRequestEx") {
        // The example's "OAUTH" is normalised; what would be sent is OAUTH2.
        expect(Either.getOrThrow(decoded)).toEqual({
          profile: {
            authScheme: "OAUTH2",
            clientId: "0oa2h6su6bVFyJzIf1d7",
            signing: { rotationMode: "AUTO" }
          }
        })
      } else if (kind !== "jwks") {
        // Nothing in Okta's own examples is silently dropped: decoding then encoding gives the example back.
        const encoded = Schema.encodeSync(schemaOf[kind] as Schema.Schema<unknown>)(
          Either.getOrThrow(decoded)
        )
        expect(encoded).toEqual(value)
      }
    })
  }

  it("the JWKS example keeps alg and every key member", () => {
    const value = contract.components.examples["UserProvisioningJsonWebKeysResponse"]!.value
    const decoded = Schema.decodeUnknownSync(AppConnectionUserProvisionJWKResponse)(value)
    expect(decoded).toEqual(value)
    expect(decoded.jwks.keys[0]!.alg).toBe("RSA")
  })

  it("the Office 365 response keeps the authorize link and its guidance", () => {
    const value = contract.components.examples["ProvisioningConnectionOauthResponseEx"]!.value
    const decoded = Schema.decodeUnknownSync(ProvisioningConnectionResponse)(value)
    expect(decoded._links?.authorize?.href).toMatch(/^https:\/\/login\.microsoftonline\.com\//)
    expect(decoded._links?.authorize?.guidance).toHaveLength(1)
  })

  it("the fixture is the contract as copied, byte for byte", () => {
    // The digest of Okta's spec when it was copied; `npm run check:contract -- <spec>` compares
    // the fixture with a copy of the spec held elsewhere (CI passes the team's).
    const digest = createHash("sha256").update(contractText).digest("hex")
    expect(digest).toBe("5f9c2df1903f1c686366a110576421ceea904f1bc247c16b56141a3a3e6a4224")
  })
})

describe("what the contract declares of its examples' members, the schemas hold", () => {
  interface Node {
    readonly $ref?: string
    readonly allOf?: ReadonlyArray<Node>
    readonly type?: string
    readonly properties?: Record<string, Node>
    readonly required?: ReadonlyArray<string>
    readonly items?: Node
  }
  const schemas = (contract.components as unknown as { schemas: Record<string, Node> }).schemas
  // A $ref and allOf read as the one schema they make (properties and required lists merged).
  const resolve = (node: Node): Node => {
    if (node.$ref !== undefined) {
      const { $ref, ...rest } = node
      return resolve({ ...schemas[$ref.replace("#/components/schemas/", "")]!, ...rest })
    }
    if (node.allOf === undefined) return node
    const parts = node.allOf.map(resolve)
    return {
      type: parts.find((part) => part.type !== undefined)?.type ?? "object",
      properties: Object.assign({}, ...parts.map((part) => part.properties ?? {})) as Record<
        string,
        Node
      >,
      required: parts.flatMap((part) => part.required ?? [])
    }
  }
  const typeOf = (node: Node) => node.type ?? (node.properties !== undefined ? "object" : undefined)
  const changed = (root: unknown, path: ReadonlyArray<string | number>, to: unknown) => {
    const copy = structuredClone(root) as Record<string | number, unknown>
    const parent = path
      .slice(0, -1)
      .reduce<Record<string | number, unknown>>(
        (at, key) => at[key] as Record<string | number, unknown>,
        copy
      )
    if (to === undefined) delete parent[path.at(-1)!]
    else parent[path.at(-1)!] = to
    return copy
  }
  /** Each example with one member of another JSON type than declared, or a required one removed. */
  const breakages = (root: unknown, schema: Node) => {
    const out: Array<{ readonly change: string; readonly value: unknown }> = []
    const visit = (value: unknown, node: Node, path: ReadonlyArray<string | number>) => {
      const resolved = resolve(node)
      if (Array.isArray(value) && resolved.items !== undefined) {
        value.forEach((item, i) => visit(item, resolved.items!, [...path, i]))
      }
      if (value === null || typeof value !== "object" || Array.isArray(value)) return
      for (const [key, member] of Object.entries(resolved.properties ?? {})) {
        const at = [...path, key]
        const type = typeOf(resolve(member))
        const wrong = type === "string" ? 7 : "text"
        if (type !== undefined) {
          // A declared member the example leaves out is tried too, given with the wrong type.
          const change = `${at.join(".")} ${key in value ? "as" : "added as"} ${JSON.stringify(wrong)}`
          out.push({ change, value: changed(root, at, wrong) })
        }
        if (!(key in value)) continue
        if (resolved.required?.includes(key) === true) {
          out.push({ change: `${at.join(".")} missing`, value: changed(root, at, undefined) })
        }
        visit((value as Record<string, unknown>)[key], member, at)
      }
    }
    visit(root, schema, [])
    return out
  }
  const contractSchemaOf = (kind: keyof typeof schemaOf, value: unknown) =>
    kind === "connection"
      ? "ProvisioningConnectionResponse"
      : kind === "jwks"
        ? "AppConnectionUserProvisionJWKResponse"
        : kind === "error"
          ? "Error"
          : (value as { profile: { authScheme: string } }).profile.authScheme === "TOKEN"
            ? "ProvisioningConnectionTokenRequest"
            : "ProvisioningConnectionOauthRequest"

  it("every example broken in one member is refused: a member of the wrong type, a required one missing", () => {
    let tried = 0
    const accepted: Array<string> = []
    for (const [name, kind] of examplesBySchema()) {
      const example = contract.components.examples[name]!.value
      const decode = Schema.decodeUnknownEither(schemaOf[kind] as Schema.Schema<unknown>)
      for (const { change, value } of breakages(example, {
        $ref: contractSchemaOf(kind, example)
      })) {
        tried += 1
        if (Either.isRight(decode(value))) accepted.push(`${name}: ${change}`)
      }
    }
    expect(accepted).toEqual([])
    // Every declared member of every example is tried, nested ones included (links, keys,
    // causes): 190 breakages of the contract, pinned by digest above.
    expect(tried).toBe(190)
  })
})

describe("open objects (JsonWebKey, HrefObject)", () => {
  it("drop a `__proto__` member, and keep their prototype and other members", () => {
    // JSON.parse makes `__proto__` an own member; decoded as data, it would become the prototype.
    const key = Schema.decodeUnknownSync(JsonWebKey)(
      JSON.parse(`{"kid":"k1","crv":"P-256","__proto__":{"alg":"none"}}`)
    )
    expect(Object.getPrototypeOf(key)).toBe(Object.prototype)
    expect(key.alg).toBeUndefined()
    expect(key).toEqual({ kid: "k1", crv: "P-256" })
    const link = Schema.decodeUnknownSync(HrefObject)(
      JSON.parse(`{"href":"https://acme.okta.com","title":"kept","__proto__":{"name":"x"}}`)
    )
    expect(Object.getPrototypeOf(link)).toBe(Object.prototype)
    expect(link).toEqual({ href: "https://acme.okta.com", title: "kept" })
    // Encoding leaves it out too.
    const withOwn = Object.defineProperty({ href: "h" }, "__proto__", {
      value: { name: "x" },
      enumerable: true
    })
    expect(Object.keys(Schema.encodeSync(HrefObject)(withOwn))).toEqual(["href"])
  })

  it("have an Arbitrary that generates only what they accept: no declared member of another type", () => {
    // A user's property test derives its data from these schemas. The open rest once generated
    // declared names too (a JWK with `n: []`): about 1 JWK in 700.
    for (const schema of [JsonWebKey, HrefObject] as const) {
      const open = schema as Schema.Schema<unknown>
      const values = FastCheck.sample(Arbitrary.make(open), { seed: 1, numRuns: 5_000 })
      expect(values.filter((value) => !Schema.is(open)(value))).toEqual([])
    }
    // A declared member keeps its place when decoded, beside the open rest.
    expect(Schema.decodeUnknownSync(JsonWebKey)({ n: "AQAB", crv: "P-256" })).toEqual({
      n: "AQAB",
      crv: "P-256"
    })
    expect(() => Schema.decodeUnknownSync(JsonWebKey)({ n: [] })).toThrow()
  })
})

describe("encode → decode round-trips (property tests)", () => {
  const roundTrip =
    <A, I>(schema: Schema.Schema<A, I>) =>
    (value: A) => {
      const encoded = Schema.encodeSync(schema)(value)
      // In memory: decode ∘ encode is the identity.
      expect(Schema.decodeUnknownSync(schema)(encoded)).toEqual(value)
      // Through JSON, as on the wire: identity up to what JSON cannot carry (`undefined` members
      // of optional fields and of `unknown` index-signature values).
      const wire = JSON.parse(JSON.stringify(encoded)) as unknown
      expect(Schema.decodeUnknownSync(schema)(wire)).toEqual(JSON.parse(JSON.stringify(value)))
    }

  it.prop(
    "ProvisioningConnectionResponse",
    [ProvisioningConnectionResponse],
    ([value]) => roundTrip(ProvisioningConnectionResponse)(value),
    PROPS
  )
  it.prop(
    "UpdateDefaultProvisioningConnectionForApplicationRequest",
    [UpdateDefaultProvisioningConnectionForApplicationRequest],
    ([value]) => roundTrip(UpdateDefaultProvisioningConnectionForApplicationRequest)(value),
    PROPS
  )
  // The index signature's arbitrary can overwrite a declared member (`e: {}`), giving values
  // outside the type; keep only values of the type.
  const jwksArbitrary = Arbitrary.make(AppConnectionUserProvisionJWKResponse).filter(
    Schema.is(AppConnectionUserProvisionJWKResponse)
  )
  it.prop(
    "AppConnectionUserProvisionJWKResponse",
    [jwksArbitrary],
    ([value]) => roundTrip(AppConnectionUserProvisionJWKResponse)(value),
    PROPS
  )
  it.prop("OktaErrorBody", [OktaErrorBody], ([value]) => roundTrip(OktaErrorBody)(value), PROPS)
  it.prop("AppId", [AppId], ([value]) => roundTrip(AppId)(value), PROPS)
})

describe("AppId", () => {
  const decode = Schema.decodeUnknownEither(AppId)

  it("accepts Okta ids", () => {
    expect(decode("0oafxqCAJWWGELFTYASJ")).toEqual(Either.right("0oafxqCAJWWGELFTYASJ"))
    expect(AppId.make("invalid-app-id-12345")).toBe("invalid-app-id-12345")
  })

  it("is named AppId in a parse error, with the first rule broken right under it", () => {
    const tree = (id: string) => {
      const result = decode(id)
      if (Either.isRight(result)) throw new Error("decoded")
      return ParseResult.TreeFormatter.formatErrorSync(result.left)
    }
    const reads = (rule: string) => `AppId\n└─ Predicate refinement failure\n   └─ ${rule}`
    expect(tree("apps/0oa1")).toBe(reads('must not contain "/", "\\", "?", "#" or "%"'))
    expect(tree("")).toBe(reads("must not be empty"))
    expect(tree(".")).toBe(reads('must not be the dot segment "."'))
    // Of two rules broken, the first checked: a URL before its space, a control character (a line
    // break is also whitespace) before whitespace.
    expect(tree("https://acme.okta.com/x y")).toMatch(/\n {3}└─ is a URL: give the app id alone/)
    expect(tree("a\nb")).toBe(reads("must not contain control characters"))
    // As a user's code meets it first: AppId.make throws it.
    expect(() => AppId.make("a b")).toThrow(reads("must not contain whitespace"))
  })

  it("describes itself in JSON Schema, and no id it accepts is refused there", () => {
    const document = JSONSchema.make(AppId)
    const described: unknown = document.$defs?.["AppId"]
    expect(described).toMatchObject({
      type: "string",
      description: "An Okta application id",
      minLength: 1,
      maxLength: 100,
      not: { anyOf: [{ const: "." }, { pattern: "\\.\\." }] }
    })
    // JSON Schema's patterns are ECMA-262's, and its lengths count code points.
    const pattern = new RegExp((described as { readonly pattern: string }).pattern)
    const acceptedThere = (id: string) =>
      pattern.test(id) &&
      [...id].length >= 1 &&
      [...id].length <= 100 &&
      id !== "." &&
      !id.includes("..")
    // Ids drawn apart from AppId's own Arbitrary (which draws from this pattern), any character.
    const ids = FastCheck.oneof(
      FastCheck.string({ maxLength: 30 }),
      FastCheck.string({ unit: "binary", maxLength: 30 }),
      FastCheck.string({ unit: "binary", minLength: 95, maxLength: 105 })
    ).filter(Schema.is(AppId))
    FastCheck.assert(FastCheck.property(ids, acceptedThere), { seed: 1, numRuns: 2_000 })
    FastCheck.assert(FastCheck.property(Arbitrary.make(AppId), acceptedThere), {
      seed: 1,
      numRuns: 500
    })
    expect(acceptedThere("0oafxqCAJWWGELFTYASJ")).toBe(true)
    // And what the pattern refuses, AppId refuses too.
    for (const refused of [
      "a/b",
      "a b",
      "a?b",
      "a#b",
      "a%b",
      "a\\b",
      "a\u0000b",
      "a\u0085b",
      "a\u00a0b",
      'a"b',
      "a,b",
      "a]b",
      "a\u201cb"
    ]) {
      expect([refused, pattern.test(refused)]).toEqual([refused, false])
      expect(Either.isLeft(decode(refused))).toBe(true)
    }
  })

  it.prop(
    "rejects any string containing a path, query or fragment character, whitespace, a control character, a quote, a bracket or a list separator",
    [
      FastCheck.tuple(
        FastCheck.string({ maxLength: 20 }),
        FastCheck.constantFrom(
          "/",
          "?",
          "#",
          "%",
          "\\",
          " ",
          "\n",
          "\t",
          "\r",
          "\u0000",
          "\u007f",
          // C1 controls (NEL, APC): invisible in most terminals, pasted from a rich-text page.
          "\u0085",
          "\u009f",
          "\u00a0",
          "..",
          // What text around an id brings: quotes, typographic ones too, JSON, a list's separators.
          '"',
          "'",
          "`",
          "\u201c",
          "\u2019",
          "[",
          "]",
          "{",
          "}",
          "<",
          ">",
          ",",
          ";"
        ),
        FastCheck.string({ maxLength: 20 })
      )
    ],
    ([[before, bad, after]]) => {
      expect(Either.isLeft(decode(`${before}${bad}${after}`))).toBe(true)
    },
    PROPS
  )

  it("rejects empty, over-long and URL ids with a message naming the rule, not the value (a URL's app id excepted)", () => {
    const empty = decode("")
    const long = decode("x".repeat(101))
    expect(Either.isLeft(empty) && String(empty.left)).toContain("must not be empty")
    expect(Either.isLeft(long) && String(long.left)).toContain("at most 100 characters")
    expect(Either.isRight(decode("x".repeat(100)))).toBe(true)
    // The app's Admin Console page, pasted whole (longer than 100 characters for a long org name).
    const page = decode(
      `https://${"a".repeat(40)}-admin.okta.com/admin/app/zscalerbyz/instance/0oafxqCAJWWGELFTYASJ/#tab-general`
    )
    // The id in it is named (an app id, safe to show); nothing else of the URL is.
    expect(Either.isLeft(page) && String(page.left)).toContain(
      "is a URL: give the app id alone (0oafxqCAJWWGELFTYASJ, after /instance/ in it)"
    )
    expect(Either.isLeft(page) && String(page.left)).not.toContain("admin.okta.com")
    // However the scheme is written.
    const shouted = decode("HTTPS://acme-admin.okta.com/admin/app/x/instance/0oafxqCAJWWGELFTYASJ")
    expect(Either.isLeft(shouted) && String(shouted.left)).toContain(
      "is a URL: give the app id alone (0oafxqCAJWWGELFTYASJ,"
    )
    // A URL without an app's /instance/ segment says where the id is found.
    const other = decode("https://acme-admin.okta.com/admin/apps/active")
    expect(Either.isLeft(other) && String(other.left)).toContain(
      "is a URL: give the app id alone (0oa…, after /instance/ in the app's Admin Console URL)"
    )
  })

  it("rejects an id pasted with what surrounded it (quotes, JSON, a list), saying so", () => {
    const says = (id: string) => {
      const result = decode(id)
      return Either.isLeft(result) ? String(result.left) : "accepted"
    }
    const id = "0oafxqCAJWWGELFTYASJ"
    for (const quoted of [`"${id}"`, `'${id}'`, `\u201c${id}\u201d`, `\u2018${id}\u2019`]) {
      expect(says(quoted)).toContain(
        "is in quotes (a JSON string, or jq without -r?): give the id alone"
      )
    }
    for (const listed of [`["${id}"]`, `${id},${id}`, `${id};${id}`, `{${id}}`, `<${id}>`]) {
      expect(says(listed)).toContain(
        'must not contain quotes, brackets, braces, "<", ">", "," or ";" (a list or JSON pasted whole?)'
      )
    }
    // Of the value, nothing: the rule alone.
    expect(says(`${id},${id}`)).not.toContain(id)
  })

  it.prop(
    "generated AppIds are valid path segments",
    [Arbitrary.make(AppId)],
    ([id]) => {
      expect(encodeURIComponent(id)).not.toContain("/")
      expect(id).not.toContain("..")
    },
    PROPS
  )
})

describe("the other named schemas", () => {
  it("name themselves in a parse error, as AppId does", () => {
    const named = {
      OAuthProvisioningEnabledApp,
      OktaErrorBody,
      ProvisioningConnectionTokenRequest,
      ProvisioningConnectionOauthRequest,
      UpdateDefaultProvisioningConnectionForApplicationRequest
    }
    for (const [name, schema] of Object.entries(named)) {
      const result = Schema.decodeUnknownEither(schema as Schema.Schema<unknown>)(7)
      if (Either.isRight(result)) throw new Error(`${name} decoded 7`)
      // "Expected <name>, actual 7" for a struct or literals; "<name>" over the members of a union.
      const head = ParseResult.TreeFormatter.formatErrorSync(result.left).split("\n")[0]!
      expect(head.replace(/^Expected (.*), actual 7$/, "$1")).toBe(name)
    }
  })
})

describe("open enums", () => {
  it("keep unknown values as strings and known ones as themselves", () => {
    const decode = Schema.decodeUnknownSync(ProvisioningConnectionStatus)
    expect(decode("ENABLED")).toBe("ENABLED")
    expect(decode("PENDING_REVIEW")).toBe("PENDING_REVIEW")
    expect(() => decode(3)).toThrow()
  })

  it("OAuthProvisioningEnabledApp stays closed (it is a path segment the caller chooses)", () => {
    expect(Schema.decodeUnknownEither(OAuthProvisioningEnabledApp)("office365")).toEqual(
      Either.right("office365")
    )
    expect(Either.isLeft(Schema.decodeUnknownEither(OAuthProvisioningEnabledApp)("github"))).toBe(
      true
    )
    // Exactly the contract's enum: a name added here would be sent where Okta answers 404.
    const schemas = (
      contract.components as unknown as { schemas: Record<string, { enum: unknown }> }
    ).schemas
    expect(OAuthProvisioningEnabledApp.literals).toEqual(
      schemas["OAuthProvisioningEnabledApp"]!.enum
    )
  })
})
