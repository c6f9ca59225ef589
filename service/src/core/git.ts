import type { Backend } from "./backend.ts";
import type { GitCheckoutBody, GitCheckoutResult } from "../schemas/git.ts";
import { SandgateError, errors } from "./errors.ts";
import { WORKSPACE, resolveWorkspacePath } from "./paths.ts";

/** How long a clone may take before it is killed. */
const CLONE_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * Non-interactive git: no prompt for a password (it would hang until the timeout), no credential
 * helper of the image's, and none of the transports that run commands (`ext::`, `fd::`).
 */
const GIT = ["git", "-c", "credential.helper=", "-c", "protocol.ext.allow=never", "-c", "protocol.fd.allow=never", "-c", "core.askPass="];
const GIT_ENV = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_ASKPASS: "/bin/false",
  SSH_ASKPASS: "/bin/false",
  GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
};

/**
 * Clones a repository into the sandbox by running git there, with the sandbox's own network and
 * filesystem: the same on every backend, and a `file://` URL can only name the sandbox's files.
 */
export async function gitCheckout(backend: Backend, id: string, input: GitCheckoutBody, signal?: AbortSignal): Promise<GitCheckoutResult> {
  const target = resolveWorkspacePath(input.dir ?? repositoryName(input.url));
  if (target.rel === "") throw errors.invalid(`dir must be a directory under ${WORKSPACE}, not ${WORKSPACE} itself`);
  const clone = await backend.exec(
    id,
    {
      argv: [
        ...GIT,
        "clone",
        "--quiet",
        ...(input.branch ? ["--branch", input.branch] : []),
        ...(input.depth ? ["--depth", String(input.depth)] : []),
        "--",
        input.url,
        target.abs,
      ],
      cwd: WORKSPACE,
      env: GIT_ENV,
      timeoutMs: CLONE_TIMEOUT_MS,
      maxOutputBytes: 64 * 1024,
    },
    signal,
  );
  if (clone.exitCode !== 0) throw cloneError(input, clone, target.abs);
  const head = await backend.exec(id, {
    argv: ["/bin/sh", "-c", 'git -C "$1" rev-parse HEAD && { git -C "$1" symbolic-ref --short -q HEAD || true; }', "sh", target.abs],
    cwd: WORKSPACE,
    env: GIT_ENV,
    timeoutMs: 30_000,
    maxOutputBytes: 64 * 1024,
  });
  const [commit, branch] = head.stdout.split("\n");
  // The clone is in the sandbox's files: it may have moved or swapped the directory meanwhile.
  if (head.exitCode !== 0 || !commit) throw errors.conflict(`the clone finished but '${target.abs}' changed before its HEAD could be read`);
  return { dir: target.abs, branch: branch || null, commit };
}

/** `https://host/org/repo.git` → `repo`; what `git clone` itself would name the directory. */
function repositoryName(url: string): string {
  const last = url.replace(/[/\\]+$/, "").split(/[/:]/).pop() ?? "";
  const name = last.replace(/\.git$/, "");
  return name && name !== "." && name !== ".." ? name : "repository";
}

/** The URL with any password or token taken out, for messages. */
function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/)[^@/]*@/i, "$1***@");
}

/** git's failure, as the error a caller can act on. */
function cloneError(input: GitCheckoutBody, result: { exitCode: number; stderr: string; timedOut: boolean }, dir: string): SandgateError {
  const url = redact(input.url);
  const stderr = result.stderr.split(input.url).join(url).trim();
  const details = { url, stderr: stderr.slice(-2000) };
  if (result.timedOut) return new SandgateError("timeout", `git clone of ${url} did not finish within ${CLONE_TIMEOUT_MS / 1000} s`, details);
  // 127: git itself is missing, unless git ran and exited 127 over its own target directory (a swap
  // while it cloned does that), which is told by its message.
  const gitRan = LOCAL_WRITE.test(stderr) && !/^sandgate: git: /m.test(stderr);
  if ((result.exitCode === 127 && !gitRan) || /(^|\s)git: (not found|No such file)/m.test(stderr)) {
    return new SandgateError("sandbox_unavailable", "git is not installed in this sandbox", details);
  }
  if (/already exists and is not an empty directory/.test(stderr)) return new SandgateError("conflict", `'${dir}' already exists and is not empty`, details);
  if (/Remote branch .* not found|couldn't find remote ref|Could not find remote branch/i.test(stderr)) {
    return new SandgateError("not_found", `branch '${input.branch}' not found in ${url}`, details);
  }
  if (/Authentication failed|could not read (Username|Password)|terminal prompts disabled|Permission denied \(publickey|Host key verification failed|HTTP Basic: Access denied|returned error: 40[13]/i.test(stderr)) {
    return new SandgateError("forbidden", `git could not authenticate to ${url}: the repository is private or the credentials were refused`, details);
  }
  if (/Repository not found|does not appear to be a git repository|not found|returned error: 404|does not exist/i.test(stderr)) {
    return new SandgateError("not_found", `no repository at ${url}`, details);
  }
  if (/Could not resolve host|Connection refused|Connection timed out|Network is unreachable|unable to access|Temporary failure in name resolution|Could not read from remote/i.test(stderr)) {
    return new SandgateError("upstream_unavailable", `could not reach ${url}`, details);
  }
  if (LOCAL_WRITE.test(stderr) || stderr.includes(`'${dir}`) || stderr.includes(` ${dir}/`)) {
    return new SandgateError("conflict", `git could not write '${dir}': a file or link in the sandbox is in its way, or the directory changed while git cloned into it`, details);
  }
  return new SandgateError("upstream_unavailable", `git clone of ${url} failed (exit ${result.exitCode})`, details);
}

/**
 * git failing on the directory it clones into, not on the remote: the sandbox's own files are in the
 * way (a file, a dangling link, a directory swapped while git ran). The sandbox's doing: 409, not 502.
 * (A message naming the target directory says the same; test/races.test.ts provokes all of these.)
 */
const LOCAL_WRITE =
  /could not create (leading directories|work tree dir)|Invalid (path|symlink) '|cannot copy '|could not lock config file|could not set 'core\.|unable to (create|write)|cannot (write|mkdir|create)|requires a git repository|not a git repository: '|invalid config file|error occurred while reading the configuration|invalid index-pack output|Not a directory|Read-only file system|No such file or directory|refs\/tags: /i;
