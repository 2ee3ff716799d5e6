/**
 * Standard input, read whole or, for a secret at a terminal, as a line not shown; and why a file
 * could not be read.
 */
import * as Effect from "effect/Effect"
import { StringDecoder } from "node:string_decoder"

// The reasons a file named on the command line most often cannot be read, in words.
const READ_FAULTS: Readonly<Record<string, string>> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of its path is not a directory"
}

/**
 * Why reading a file failed, as ` (no such file)`, from its error's code (another code as it is),
 * for the message that names the file; "" when the error has no code.
 */
export const readFault = (error: unknown): string => {
  const code =
    typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined
  if (typeof code !== "string") return ""
  return ` (${Object.hasOwn(READ_FAULTS, code) ? READ_FAULTS[code] : code})`
}

/**
 * Standard input to its end, as text. Read from `process.stdin`, not with `readFileSync(0)`: once
 * `process.stdin` exists (the Node platform makes it), a pipe is non-blocking, and a synchronous
 * read before the writer has written fails with EAGAIN, as in
 * `okta-connections get … --manifest | okta-connections apply -`. A second read gets "". From a
 * terminal, a line on standard error says what is read (`what`) and how to end it.
 */
export const standardInput = (what: string): Effect.Effect<string, Error> =>
  Effect.async<string, Error>((resume) => {
    const stdin = process.stdin
    if (stdin.readableEnded) {
      resume(Effect.succeed(""))
      return
    }
    // From a terminal, nothing says the command waits for what is typed (`apply -` typed by hand):
    // said, with how to end it.
    if (stdin.isTTY === true) {
      process.stderr.write(
        `okta-connections: reading ${what} from the terminal; end it with Ctrl-D\n`
      )
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

/**
 * A line typed at the terminal, not shown as it is typed (as `read -s` and password prompts read
 * one), after `prompt` on standard error: Enter or Ctrl-D ends it, Backspace takes back a
 * character, and Ctrl-C interrupts the run, as anywhere else. Only for a terminal
 * (`process.stdin.isTTY`): a pipe is read with {@link standardInput}.
 */
export const hiddenLine = (prompt: string): Effect.Effect<string> =>
  Effect.async<string>((resume) => {
    const stdin = process.stdin
    const decoder = new StringDecoder("utf8")
    let typed = ""
    // An arrow or function key sends an escape sequence (ESC [ … final, or ESC O x): none of it is
    // part of the secret.
    let escape: "none" | "started" | "sequence" = "none"
    let reading = true
    const stop = () => {
      if (!reading) return
      reading = false
      stdin.off("data", onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write("\n")
    }
    const onData = (chunk: Buffer) => {
      for (const char of decoder.write(chunk)) {
        if (escape === "started") {
          escape = char === "[" || char === "O" ? "sequence" : "none"
        } else if (escape === "sequence") {
          if (char >= "@" && char <= "~") escape = "none"
        } else if (char === "\r" || char === "\n" || char === "\u0004") {
          stop()
          resume(Effect.succeed(typed))
          return
        } else if (char === "\u0003") {
          // Raw mode turns Ctrl-C into a character: it interrupts, as its signal would have.
          stop()
          resume(Effect.interrupt)
          return
        } else if (char === "\u007f" || char === "\b") {
          typed = Array.from(typed).slice(0, -1).join("")
        } else if (char === "\u001b") {
          escape = "started"
        } else if (char >= " ") {
          typed += char
        }
      }
    }
    // Raw first: what is typed once the prompt shows is never echoed, however soon it comes.
    stdin.setRawMode(true)
    process.stderr.write(prompt)
    stdin.on("data", onData).resume()
    return Effect.sync(stop)
  })
