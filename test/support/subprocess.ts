/** Runs `node <args>` (from the repository root by default) and collects what it printed and its exit code. */
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

export const runNode = (
  args: ReadonlyArray<string>,
  env: Record<string, string | undefined>,
  stdin = "",
  cwd = root
) =>
  Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.stdin.end(stdin)
    child.once("exit", (code) => resume(Effect.succeed({ code, stdout, stderr })))
  })
