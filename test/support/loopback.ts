/**
 * A plain `node:http` server on 127.0.0.1 and a free port for one test (scoped: closed, hung
 * connections included, when the test's scope ends).
 */
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { createServer, type IncomingMessage, type RequestListener, type Server } from "node:http"
import { createServer as createHttpsServer } from "node:https"
import { type AddressInfo, connect, type Socket } from "node:net"

export const loopbackServer = (handler: RequestListener) =>
  Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly close: () => void }>((resume) => {
      const server = createServer(handler)
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          })
        )
      )
    }),
    ({ close }) => Effect.sync(close)
  )

/**
 * An HTTPS server on 127.0.0.1 for one test, with a self-signed certificate for `localhost` and
 * 127.0.0.1 (test/fixtures/tls, valid until 2126) that Node does not trust, as a TLS-inspecting
 * proxy's is not trusted until its CA is given. `connections` counts the TCP connections made.
 * `expired`: the same key's certificate for 2000 only (`localhost-expired-cert.pem`, made with
 * `openssl ca -selfsign -startdate 20000101000000Z -enddate 20010101000000Z`).
 */
export const untrustedTlsServer = (handler: RequestListener, { expired = false } = {}) =>
  Effect.acquireRelease(
    Effect.async<{
      readonly url: string
      /** The server's certificate, its own CA: what an application would give Node to trust. */
      readonly certificate: Buffer
      readonly connections: () => number
      close: () => void
    }>((resume) => {
      const fixture = (name: string) =>
        readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url))
      const certificate = fixture(expired ? "localhost-expired-cert.pem" : "localhost-cert.pem")
      const server = createHttpsServer(
        { key: fixture("localhost-key.pem"), cert: certificate },
        handler
      )
      let connections = 0
      server.on("connection", () => (connections += 1))
      server.on("tlsClientError", () => {})
      server.listen(0, "127.0.0.1", () =>
        resume(
          Effect.succeed({
            url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
            certificate,
            connections: () => connections,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          })
        )
      )
    }),
    ({ close }) => Effect.sync(close)
  )

/** `server` listening on 127.0.0.1 and a free port until the scope ends: its http:// URL. */
export const listening = (server: Server) =>
  Effect.acquireRelease(
    Effect.async<string>((resume) => {
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed(`http://127.0.0.1:${(server.address() as AddressInfo).port}`))
      )
    }),
    () =>
      Effect.sync(() => {
        server.closeAllConnections()
        server.close()
      })
  )

/**
 * A loopback HTTP proxy for one test: it tunnels `CONNECT` to the target and records each
 * tunnel's target and `Proxy-Authorization`; any other request gets a 405.
 */
export const tunnellingProxy = Effect.suspend(() => {
  const tunnels: Array<{ readonly target: string; readonly auth: string | undefined }> = []
  const server = createServer((_req, res) => res.writeHead(405).end())
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    tunnels.push({ target: req.url ?? "", auth: req.headers["proxy-authorization"] })
    const [host, port] = (req.url ?? "").split(":")
    const upstream = connect(Number(port), host, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on("error", () => client.destroy())
    client.on("error", () => upstream.destroy())
  })
  return Effect.map(listening(server), (url) => ({ url, tunnels }))
})

/**
 * A loopback HTTP proxy for one test that refuses every `CONNECT` with `status` (a 407 asking
 * for credentials, a 403 by policy, a 502 that cannot reach the host), counting them.
 */
export const refusingProxy = (status: number) =>
  Effect.suspend(() => {
    const tunnels: Array<string> = []
    const server = createServer((_req, res) => res.writeHead(405).end())
    server.on("connect", (req: IncomingMessage, client: Socket) => {
      tunnels.push(req.url ?? "")
      client.end(
        `HTTP/1.1 ${status} Refused\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n`
      )
    })
    return Effect.map(listening(server), (url) => ({ url, tunnels }))
  })
