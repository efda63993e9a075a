// Where ollama-tls keeps what it may forget: the user's cache directory ($XDG_CACHE_HOME, else
// ~/.cache, per the XDG base directory spec), ollama-tls/. Running as root through sudo (which may
// keep the user's HOME and XDG_CACHE_HOME), root's own home instead: never root-owned files in the
// invoking user's home.
import os from 'node:os';
import path from 'node:path';

/** ollama-tls's cache directory, or undefined when there is no home to keep one in. */
export function cacheDir(env: Record<string, string | undefined> = process.env): string | undefined {
  if (process.getuid?.() === 0 && env.SUDO_USER !== undefined) {
    try {
      // A password-database lookup (~10 ms), so only here.
      return path.join(os.userInfo().homedir, '.cache', 'ollama-tls');
    } catch {
      return undefined;
    }
  }
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'ollama-tls');
  const home = os.homedir();
  return home ? path.join(home, '.cache', 'ollama-tls') : undefined;
}
