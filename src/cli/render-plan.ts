// Plans as text: what will be written, removed and run, where, and with which rights, so a
// person (or a reviewer of a Dockerfile) can check every step before it happens.
import path from 'node:path';
import type { Advice } from '../fix/advice.js';
import type { StepOutcome } from '../fix/apply.js';
import type { Check, Plan, Step } from '../fix/plan.js';
import type { Certificate } from '../x509/certificate.js';
import { formatName } from '../x509/certificate.js';
import type { Style } from './style.js';
import { invocation, runnable } from './invocation.js';

/** A command line as a person would type it: arguments with spaces or quotes are quoted. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * This same command again, as root and without questions: what a person who declined sudo, or a
 * script without rights, can run themselves. `extra` adds flags the run would otherwise ask for.
 */
export function asRootCommand(extra: string[] = []): string {
  const argv = process.argv.slice(2);
  if (!argv.includes('--yes')) argv.push('--yes');
  for (let i = 0; i < extra.length; i += 2) if (!argv.includes(extra[i + 1]!)) argv.push(extra[i]!, extra[i + 1]!);
  const inv = invocation();
  return `${inv.sudo || 'as root: '}${inv.program} ${shellLine(argv)}`;
}

/** Where a step's path is on this machine: inside the tree for --root. */
function where(plan: Plan, p: string): string {
  return plan.root === '/' || /^[A-Za-z]:\\/.test(p) ? p : path.join(plan.root, p);
}

function stepLine(plan: Plan, step: Step, s: Style): string {
  switch (step.kind) {
    case 'write':
      return `${s.bold('write ')} ${where(plan, step.path)} ${s.dim(`(${Buffer.byteLength(step.content)} bytes, mode ${step.mode.toString(8).padStart(4, '0')})`)}: ${step.why}`;
    case 'remove':
      return `${s.bold('remove')} ${where(plan, step.path)}: ${step.why}`;
    case 'symlink':
      return `${s.bold('link  ')} ${where(plan, step.path)} -> ${step.target}: ${step.why}`;
    case 'append-block':
      return `${s.bold('append')} ${where(plan, step.path)}: ${step.why}`;
    case 'strip-block':
      return `${s.bold('edit  ')} ${where(plan, step.path)}: ${step.why}`;
    case 'run':
      return `${s.bold('run   ')} ${shellLine(step.argv)}: ${step.why}`;
    case 'image':
      return `${s.bold('image ')} ${step.src}${step.dst !== step.src ? ` -> ${step.dst}` : ' (in place)'}: ${step.why}`;
  }
}

export function describeCa(c: Certificate): string {
  const name = c.commonName ? `"${c.commonName}"` : formatName(c.subject);
  const kind = c.selfSigned ? 'root' : c.isCA ? 'intermediate' : 'certificate';
  return `${name} (${kind}, issued by ${formatName(c.issuer)}, expires ${c.notAfter.toISOString().slice(0, 10)})\n      SHA-256 ${c.sha256}`;
}

export function renderPlans(plans: Plan[], s: Style): string {
  const out: string[] = [];
  for (const plan of plans) {
    out.push(`${s.bold(plan.action === 'trust' ? 'Trust in' : 'Remove from')} ${plan.title}${plan.root !== '/' ? s.dim(` (tree ${plan.root})`) : ''}`);
    plan.steps.forEach((step, i) => out.push(`  ${i + 1}. ${stepLine(plan, step, s)}`));
    for (const u of plan.unchanged) out.push(`  ${s.green('=')} ${u}`);
    if (plan.steps.length === 0) out.push(`  ${s.green('nothing to do')}`);
    else if (plan.needsPrivilege) out.push(`  ${s.yellow('needs')} ${plan.target === 'windows' || plan.target === 'wsl-windows' ? 'an elevated (administrator) prompt' : 'root (sudo)'}`);
    out.push(`  ${s.dim('read by')} ${plan.readers}`);
    for (const n of plan.notes) out.push(`  ${s.dim('note')} ${n}`);
  }
  return `${out.join('\n')}\n`;
}

export function renderOutcome(plan: Plan, outcomes: StepOutcome[], checks: Check[], s: Style): string {
  const out: string[] = [];
  const done = outcomes.filter((o) => o.result === 'done').length;
  out.push(`${s.bold(plan.title)}: ${done} step${done === 1 ? '' : 's'} done${outcomes.length > done ? `, ${outcomes.length - done} already so` : ''}`);
  for (const c of checks) out.push(`  ${c.ok ? s.green('ok  ') : s.red('FAIL')} ${c.what}`);
  return `${out.join('\n')}\n`;
}

export function renderAdvice(title: string, advice: Advice[], s: Style): string {
  if (advice.length === 0) return '';
  const out = [s.bold(title)];
  for (const a of advice) {
    out.push(`  - ${a.title}`);
    if (a.command) out.push(`      $ ${runnable(a.command)}`);
  }
  return `${out.join('\n')}\n`;
}
