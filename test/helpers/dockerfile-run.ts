// Run an ollama-tls Dockerfile block without a container builder: COPY is a file copy, RUN is sh,
// both in a directory tree standing in for the image's /. Used by dockerfile.test.ts and by
// image.test.ts (which compares the Dockerfile path's bundle with the image path's).
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { expect } from 'vitest';
import { tempDir } from './servers.js';

/** A bin directory with only what the block's RUN uses, so the host's own update tools are not found. */
export function minimalBin(extra: Record<string, string> = {}): string {
  const bin = tempDir('ollama-tls-bin-');
  for (const tool of ['chmod', 'mkdir', 'cat', 'rm', 'sh']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, path.join(bin, tool));
  }
  for (const [name, script] of Object.entries(extra)) {
    writeFileSync(path.join(bin, name), script);
    chmodSync(path.join(bin, name), 0o755);
  }
  return bin;
}

/** Absolute paths in a command line, moved under `root` (the test's stand-in for /). */
export const underRoot = (command: string, root: string): string => command.replace(/(^|[\s"=])\//g, `$1${root}/`);

/** Do what the block does: COPY each file, then run its RUN with sh, in `root`. */
export function runBlock(dockerfile: string, files: { name: string; content: string }[], root: string, bin: string): { status: number | null; stderr: string } {
  const df = DockerfileParser.parse(dockerfile);
  const open = df.getComments().find((c) => c.getContent().startsWith('>>> ollama-tls:'))!.getRange().start.line;
  const close = df.getComments().find((c) => c.getContent() === '<<< ollama-tls')!.getRange().start.line;
  const block = df.getInstructions().filter((i) => i.getRange().start.line > open && i.getRange().end.line < close);
  const context = tempDir('ollama-tls-context-');
  for (const f of files) writeFileSync(path.join(context, f.name), f.content, { mode: 0o600 });
  let result = { status: 0 as number | null, stderr: '' };
  for (const i of block) {
    const keyword = i.getKeyword();
    if (keyword === 'USER') continue;
    if (keyword === 'COPY') {
      const args = i.getArguments().map((a) => a.getValue());
      const dest = path.join(root, args.at(-1)!);
      mkdirSync(path.dirname(dest), { recursive: true });
      for (const src of args.slice(0, -1)) copyFileSync(path.join(context, src), dest);
      // COPY keeps the context file's mode; --chmod sets it.
      const chmod = (i as unknown as { getFlags(): { getName(): string; getValue(): string | null }[] }).getFlags().find((f) => f.getName() === 'chmod');
      if (chmod) chmodSync(dest, parseInt(chmod.getValue()!, 8));
      continue;
    }
    expect(keyword).toBe('RUN');
    const raw = i.getRawArgumentsContent()!;
    const argv = raw.startsWith('[') ? (JSON.parse(raw) as string[]) : ['/bin/sh', '-c', raw.replace(/\r\n/g, '\n')];
    expect(argv.slice(0, 2)).toEqual(['/bin/sh', '-c']);
    const r = spawnSync('/bin/sh', ['-c', underRoot(argv[2]!, root)], { env: { PATH: bin }, encoding: 'utf8' });
    result = { status: r.status, stderr: r.stderr };
  }
  return result;
}
