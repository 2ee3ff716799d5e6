/**
 * Okta's configuration files, read as Okta's SDKs and the Okta CLI read them: the `okta.client`
 * section of `okta.yaml` in the working directory, then of `~/.okta/okta.yaml` (where `okta login`
 * writes it), each key overridden by its `OKTA_CLIENT_*` variable.
 */
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import { existsSync, readFileSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"
import { isRecord, yamlErrorAt, yamlParser } from "./manifest.js"
import { readFault } from "./stdin.js"

/** A file that is there but cannot be used: exit code 3, as for a bad variable. */
export class OktaYamlError extends Error {
  readonly _tag = "OktaYamlError"
}

const KEYS = [
  "orgUrl",
  "token",
  "authorizationMode",
  "clientId",
  "scopes",
  "privateKey",
  "keyId",
  "requestTimeout"
]

/** The files, the one that wins first. */
export const oktaYamlFiles = (): ReadonlyArray<string> => [
  join(process.cwd(), "okta.yaml"),
  join(homedir(), ".okta", "okta.yaml")
]

// Where each variable a file stood for was set, in the file that wins (read first).
const origins = new Map<string, string>()

/**
 * Where the value of `name` was set when a file gave it and the environment did not
 * (`okta.client.requestTimeout in ./okta.yaml`): a bad value is said where it can be mended.
 */
export const yamlOrigin = (name: string): string | undefined =>
  process.env[name] === undefined ? origins.get(name) : undefined

// The files read with nothing under okta.client (no section, or an empty one): `orgUrl:` at the
// top level, or not indented under `client:`, sets nothing. A "not set" error names them: the user
// can see the file is there, and would doubt it was read.
const sectionless = new Set<string>()

/** The okta.yaml files read with nothing under `okta.client` (so they set nothing). */
export const filesWithoutSection = (): ReadonlyArray<string> => [...sectionless]

/** The variables a file stands for, e.g. `OKTA_CLIENT_TOKEN` for `okta.client.token`. */
const variablesOf = (path: string, parsed: unknown): Map<string, string> => {
  const variables = new Map<string, string>()
  const set = (name: string, key: string, value: string) => {
    variables.set(name, value)
    if (!origins.has(name)) origins.set(name, `okta.client.${key} in ${path}`)
  }
  const okta = isRecord(parsed) ? parsed["okta"] : undefined
  const client = isRecord(okta) ? okta["client"] : undefined
  if (!isRecord(client)) {
    sectionless.add(path)
    return variables
  }
  for (const key of KEYS) {
    const value = client[key]
    if (value === undefined || value === null || value === "") continue
    const name = `OKTA_CLIENT_${key.toUpperCase()}`
    if (typeof value === "string" || typeof value === "number") set(name, key, String(value))
    // The SDKs take scopes as a list, and a private key as a JWK object.
    else if (key === "scopes" && Array.isArray(value)) set(name, key, value.join(" "))
    else if (key === "privateKey" && isRecord(value)) set(name, key, JSON.stringify(value))
    else throw new OktaYamlError(`${path}: okta.client.${key} must be a string`)
  }
  // The SDKs' proxy (okta.client.proxy.host, port, username, password), as their variables.
  const proxy = client["proxy"]
  if (proxy !== undefined && proxy !== null && !isRecord(proxy)) {
    throw new OktaYamlError(
      `${path}: okta.client.proxy must be a mapping, such as proxy: { host: proxy.internal, port: 3128 }`
    )
  }
  for (const key of ["host", "port", "username", "password"]) {
    const value = isRecord(proxy) ? proxy[key] : undefined
    if (value === undefined || value === null || value === "") continue
    if (typeof value !== "string" && typeof value !== "number") {
      throw new OktaYamlError(`${path}: okta.client.proxy.${key} must be a string`)
    }
    set(`OKTA_CLIENT_PROXY_${key.toUpperCase()}`, `proxy.${key}`, String(value))
  }
  // The retry setting the SDKs share: okta.client.rateLimit.maxRetries.
  const rateLimit = client["rateLimit"]
  if (rateLimit !== undefined && rateLimit !== null && !isRecord(rateLimit)) {
    // `rateLimit: 4` reads as a setting, yet sets nothing: named, as the SDKs' key is nested.
    throw new OktaYamlError(
      `${path}: okta.client.rateLimit must be a mapping, such as rateLimit: { maxRetries: 4 }`
    )
  }
  const maxRetries = isRecord(rateLimit) ? rateLimit["maxRetries"] : undefined
  if (typeof maxRetries === "string" || typeof maxRetries === "number") {
    set("OKTA_CLIENT_RATELIMIT_MAXRETRIES", "rateLimit.maxRetries", String(maxRetries))
  } else if (maxRetries !== undefined && maxRetries !== null) {
    // A list or a mapping is a mistake to name, as for the keys above, not a setting to ignore.
    throw new OktaYamlError(`${path}: okta.client.rateLimit.maxRetries must be a number`)
  }
  return variables
}

/**
 * The environment, then the files that exist. The YAML parser is loaded only when one does.
 */
export const configProvider: Effect.Effect<ConfigProvider.ConfigProvider, OktaYamlError> =
  Effect.suspend(() => {
    const files = oktaYamlFiles().filter((path) => existsSync(path))
    if (files.length === 0) return Effect.succeed(ConfigProvider.fromEnv())
    return Effect.flatMap(yamlParser, (parse) =>
      Effect.try({
        try: () =>
          files.reduce((provider, path) => {
            let text: string
            try {
              text = readFileSync(path, "utf8")
            } catch (error) {
              throw new OktaYamlError(`${path}: cannot read it${readFault(error)}`)
            }
            let parsed: unknown
            try {
              parsed = parse(text)
            } catch (error) {
              throw new OktaYamlError(`${path}: cannot read it as YAML${yamlErrorAt(error)}`)
            }
            const fromFile = ConfigProvider.fromMap(variablesOf(path, parsed))
            return ConfigProvider.orElse(provider, () => fromFile)
          }, ConfigProvider.fromEnv()),
        catch: (error) =>
          error instanceof OktaYamlError ? error : new OktaYamlError(`okta.yaml: ${String(error)}`)
      })
    )
  })
