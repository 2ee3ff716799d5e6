// A lean stand-in for Okta, for the benchmarks that measure the client: plain node:http, one
// canned Okta-shaped answer (body and headers), so that the server's own cost per request is
// small next to the client's. Run as a child process (its own core):
//
//   node bench/lean-server.mjs '{"forms":["chunked","gzip","length"]}'
//   node bench/lean-server.mjs '{"forms":["chunked"],"holdMillis":20,"concurrencyLimit":5}'
//
// It prints one JSON line, {"ports":{"chunked":…,…}}, then serves until SIGINT/SIGTERM.
// Wire forms: `chunked` (no Content-Length, as Okta answers), `gzip` (chunked and gzip-compressed
// when the request accepts it, as Okta answers fetch) and `length` (a declared Content-Length).
// With `concurrencyLimit`, a request counts in flight from its arrival until its response has been
// sent (as Okta counts), and one over the limit gets Okta's concurrent-request 429. `GET /__stats`
// answers {served, limited, maxInFlight}; `POST /__reset` zeroes them.
import { createServer } from "node:http"
import { gzipSync } from "node:zlib"

const options = JSON.parse(process.argv[2] ?? "{}")
const forms = options.forms ?? ["chunked", "gzip", "length"]
const holdMillis = options.holdMillis ?? 0
const limit = options.concurrencyLimit ?? Number.POSITIVE_INFINITY

const APP = "0oasimzscaler0000001"
const ORG = "https://acme.okta.com"
const body = JSON.stringify({
  authScheme: "TOKEN",
  status: "ENABLED",
  baseUrl: "https://scim.zscalerbeta.net/1234567/890/scim",
  profile: { authScheme: "TOKEN" },
  _links: {
    self: {
      href: `${ORG}/api/v1/apps/${APP}/connections/default`,
      hints: { allow: ["GET", "POST"] }
    },
    deactivate: {
      href: `${ORG}/api/v1/apps/${APP}/connections/default/lifecycle/deactivate`,
      hints: { allow: ["POST"] }
    }
  }
})
const gzipped = gzipSync(body)
const errorBody = JSON.stringify({
  errorCode: "E0000047",
  errorSummary: "API call exceeded rate limit due to too many requests.",
  errorLink: "E0000047",
  errorId: "oaeBenchConcurrencyLimit",
  errorCauses: []
})

// What Okta sends besides the body (request ids and dates vary per response, as Okta's do).
const commonHeaders = () => ({
  date: new Date().toUTCString(),
  "content-type": "application/json",
  "x-okta-request-id": `bench${(++requestSeq).toString(36)}`,
  "cache-control": "no-cache, no-store",
  pragma: "no-cache",
  expires: "0",
  vary: "Accept-Encoding",
  "strict-transport-security": "max-age=315360000; includeSubDomains",
  "x-content-type-options": "nosniff",
  "referrer-policy": "strict-origin-when-cross-origin"
})
let requestSeq = 0
const resetAt = () => String(Math.ceil(Date.now() / 60_000) * 60)

let inFlight = 0
let served = 0
let limited = 0
let maxInFlight = 0

const serve = (form) => (req, res) => {
  if (req.url === "/__stats") {
    res.end(JSON.stringify({ served, limited, maxInFlight }))
    return
  }
  if (req.url === "/__reset") {
    served = limited = maxInFlight = 0
    res.end("{}")
    return
  }
  req.resume()
  inFlight += 1
  maxInFlight = Math.max(maxInFlight, inFlight)
  res.on("close", () => {
    inFlight -= 1
  })
  if (inFlight > limit) {
    limited += 1
    res.writeHead(429, {
      ...commonHeaders(),
      "x-rate-limit-limit": "0",
      "x-rate-limit-remaining": "0",
      "x-rate-limit-reset": resetAt()
    })
    res.end(errorBody)
    return
  }
  const answer = () => {
    served += 1
    const headers = {
      ...commonHeaders(),
      "x-rate-limit-limit": "100000000",
      "x-rate-limit-remaining": "99999999",
      "x-rate-limit-reset": resetAt()
    }
    if (form === "length") {
      res.writeHead(200, { ...headers, "content-length": Buffer.byteLength(body) })
      res.end(body)
    } else if (form === "gzip" && /\bgzip\b/.test(req.headers["accept-encoding"] ?? "")) {
      res.writeHead(200, { ...headers, "content-encoding": "gzip" })
      res.end(gzipped)
    } else {
      res.writeHead(200, headers)
      res.end(body)
    }
  }
  if (holdMillis > 0) setTimeout(answer, holdMillis)
  else answer()
}

const servers = []
const ports = {}
await Promise.all(
  forms.map(
    (form) =>
      new Promise((resolve) => {
        const server = createServer(serve(form))
        server.keepAliveTimeout = 60_000
        servers.push(server)
        server.listen(0, "127.0.0.1", () => {
          ports[form] = server.address().port
          resolve()
        })
      })
  )
)
process.stdout.write(`${JSON.stringify({ ports })}\n`)
const stop = () => {
  for (const server of servers) {
    server.closeAllConnections()
    server.close()
  }
  process.exit(0)
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
