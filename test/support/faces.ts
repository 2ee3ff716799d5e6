/**
 * The simulator's two faces as test fixtures: the same tests run over the in-process HttpClient
 * and over a real loopback socket with FetchHttpClient.
 */
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Context, Effect, Layer } from "effect"
import type { ApplicationConnections, OktaClient } from "../../src/index.js"
import { OktaUndici } from "../../src/undici/index.js"
import {
  OktaSimulator,
  SimulatorServer,
  type OktaSimulatorOptions
} from "../../src/testing/index.js"
import type { OktaClientSettings, OktaCredentials } from "../../src/index.js"

/** Raw HTTP to the simulated org, bypassing the client (for what the client would refuse to send). */
export class Raw extends Context.Tag("test/Raw")<
  Raw,
  {
    readonly baseUrl: string
    readonly send: (
      method: "GET" | "POST" | "PUT" | "DELETE",
      pathOrUrl: string,
      options?: {
        readonly authorization?: string
        readonly body?: string
        /** Default `application/json`. */
        readonly contentType?: string
      }
    ) => Effect.Effect<{ status: number; headers: Record<string, string>; text: string }>
  }
>() {}

const makeRaw = (baseUrl: string) =>
  Effect.map(HttpClient.HttpClient, (client) =>
    Raw.of({
      baseUrl,
      send: (method, pathOrUrl, options = {}) => {
        const url = pathOrUrl.startsWith("http") ? pathOrUrl : baseUrl + pathOrUrl
        let request = HttpClientRequest.make(method)(url, {
          headers:
            options.authorization !== undefined ? { authorization: options.authorization } : {}
        })
        if (options.body !== undefined) {
          request = HttpClientRequest.bodyText(
            request,
            options.body,
            options.contentType ?? "application/json"
          )
        }
        return client.execute(request).pipe(
          Effect.flatMap((response) =>
            Effect.map(response.text, (text) => ({
              status: response.status,
              headers: { ...response.headers },
              text
            }))
          ),
          Effect.orDie
        )
      }
    })
  )

export type FaceServices = ApplicationConnections | OktaClient | OktaSimulator | Raw

export interface Face {
  readonly name: string
  readonly layer: (
    options?: OktaSimulatorOptions & {
      readonly client?: OktaClientSettings
      readonly credentials?: OktaCredentials
    }
  ) => Layer.Layer<FaceServices>
}

export const inProcess: Face = {
  name: "in-process HttpClient",
  // Raw shares the connections' simulator instance: its HttpClient is built from the same one.
  layer: (options = {}) =>
    Layer.effect(Raw, makeRaw("https://simulator.okta.test")).pipe(
      Layer.provide(OktaSimulator.layerHttpClient),
      Layer.provideMerge(OktaSimulator.layerConnections(options))
    )
}

/** The simulator's loopback server, the client on `transport` and `Raw` on `rawTransport`. */
const loopbackOver = (
  name: string,
  rawTransport: Layer.Layer<HttpClient.HttpClient>,
  transport: Layer.Layer<HttpClient.HttpClient>
): Face => ({
  name,
  layer: (options = {}) =>
    Layer.effect(
      Raw,
      Effect.flatMap(SimulatorServer, (server) => makeRaw(server.url))
    ).pipe(
      Layer.provide(rawTransport),
      Layer.provideMerge(
        OktaSimulator.layerConnectionsServer({ ...options, httpClient: transport })
      ),
      Layer.orDie
    )
})

export const loopback: Face = loopbackOver(
  "loopback server",
  FetchHttpClient.layer,
  FetchHttpClient.layer
)

export const loopbackUndici: Face = loopbackOver(
  "loopback server over undici",
  NodeHttpClient.layerUndici,
  NodeHttpClient.layerUndici
)

// The undici transport that caps bodies itself: the client reads every body in one go.
export const loopbackOktaUndici: Face = loopbackOver(
  "loopback server over OktaUndici",
  NodeHttpClient.layerUndici,
  Layer.orDie(OktaUndici.layer())
)

export const faces: ReadonlyArray<Face> = [inProcess, loopback]

/** Every face and transport: in-process, loopback over fetch, over undici, over OktaUndici. */
export const allFaces: ReadonlyArray<Face> = [
  inProcess,
  loopback,
  loopbackUndici,
  loopbackOktaUndici
]
