/** Runs `node <args>` (from the repository root by default) and collects what it printed and its exit code. */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

export const runNode = (
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  stdin = "",
  cwd = root,
  /** Write `stdin` only this long after the start, as a writer that is slow to write does. */
  stdinAfterMillis = 0
) =>
  Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    const write =
      stdinAfterMillis > 0 ? setTimeout(() => child.stdin.end(stdin), stdinAfterMillis) : undefined
    if (write === undefined) child.stdin.end(stdin)
    child.once("exit", (code) => {
      clearTimeout(write)
      resume(Effect.succeed({ code, stdout, stderr }))
    })
  })
