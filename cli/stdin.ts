/**
 * Standard input, read whole.
 */
import * as Effect from "effect/Effect"

/**
 * Standard input to its end, as text. Read from `process.stdin`, not with `readFileSync(0)`: once
 * `process.stdin` exists (the Node platform makes it), a pipe is non-blocking, and a synchronous
 * read before the writer has written fails with EAGAIN, as in
 * `okta-connections get … --manifest | okta-connections apply -`. A second read gets "".
 */
export const standardInput: Effect.Effect<string, Error> = Effect.async<string, Error>((resume) => {
  const stdin = process.stdin
  if (stdin.readableEnded) {
    resume(Effect.succeed(""))
    return
  }
  const chunks: Array<Buffer> = []
  const onData = (chunk: Buffer) => {
    chunks.push(chunk)
  }
  const done = () => {
    stdin.off("data", onData).off("end", onEnd).off("error", onError)
    stdin.pause()
  }
  const onEnd = () => {
    done()
    resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
  }
  const onError = (error: Error) => {
    done()
    resume(Effect.fail(error))
  }
  stdin.on("data", onData).once("end", onEnd).once("error", onError)
  return Effect.sync(done)
})
