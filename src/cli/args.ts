/**
 * A small, strict argument parser: every command declares its flags, and
 * anything undeclared is a usage error (exit 2) rather than silently ignored,
 * because a mistyped flag in a long training script should stop it at once.
 */
import { inputError } from '../engine/errors';

export type FlagType = 'string' | 'number' | 'int' | 'boolean';

export interface FlagSpec {
  name: string;
  type: FlagType;
  description: string;
  /** Shown in help; parsing does not apply it (the engine owns defaults). */
  defaultText?: string;
  /** For boolean flags that default to true: accept --no-<name>. */
  negatable?: boolean;
  /** Allowed values for string flags. */
  choices?: readonly string[];
  required?: boolean;
  metavar?: string;
}

export interface ParsedArgs {
  flags: Record<string, string | number | boolean | undefined>;
  positionals: string[];
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function parseArgs(argv: string[], specs: FlagSpec[], command: string): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--') || arg === '--') {
      positionals.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let spec = byName.get(name);
    let negated = false;
    if (!spec && name.startsWith('no-')) {
      const base = byName.get(name.slice(3));
      if (base && base.type === 'boolean') {
        spec = base;
        negated = true;
      }
    }
    if (!spec) {
      const known = specs.map((s) => `--${s.name}`).join(', ');
      throw inputError(`unknown option --${name} for "landscape ${command}" (known: ${known}); see landscape ${command} --help`);
    }
    const key = camel(spec.name);
    if (spec.type === 'boolean') {
      if (value !== undefined) {
        if (!/^(true|false|1|0)$/.test(value)) throw inputError(`--${spec.name} takes no value or true/false, got "${value}"`);
        flags[key] = negated ? !/^(true|1)$/.test(value) : /^(true|1)$/.test(value);
      } else {
        flags[key] = !negated;
      }
      continue;
    }
    if (value === undefined) {
      if (i + 1 >= argv.length || (argv[i + 1].startsWith('--') && argv[i + 1].length > 2)) {
        throw inputError(`--${spec.name} needs a value${spec.metavar ? ` (${spec.metavar})` : ''}`);
      }
      value = argv[++i];
    }
    if (spec.type === 'string') {
      if (spec.choices && !spec.choices.includes(value)) {
        throw inputError(`--${spec.name} must be one of ${spec.choices.join(', ')}, got "${value}"`);
      }
      flags[key] = value;
    } else {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) throw inputError(`--${spec.name} needs a number, got "${value}"`);
      if (spec.type === 'int' && !Number.isInteger(n)) throw inputError(`--${spec.name} needs a whole number, got "${value}"`);
      flags[key] = n;
    }
  }
  for (const s of specs) {
    if (s.required && flags[camel(s.name)] === undefined) {
      throw inputError(`"landscape ${command}" needs --${s.name}${s.metavar ? ` ${s.metavar}` : ''}; see landscape ${command} --help`);
    }
  }
  return { flags, positionals };
}

export function formatHelp(command: string, usage: string, summary: string, specs: FlagSpec[]): string {
  const rows = specs.map((s) => {
    const left = `  --${s.name}${s.type === 'boolean' ? '' : ` <${s.metavar ?? s.type}>`}`;
    const extra = [s.choices ? `one of ${s.choices.join('|')}` : '', s.defaultText ? `default ${s.defaultText}` : ''].filter(Boolean).join('; ');
    return `${left.padEnd(30)} ${s.description}${extra ? ` (${extra})` : ''}`;
  });
  return `Usage: landscape ${command} ${usage}\n\n${summary}\n\nOptions:\n${rows.join('\n')}\n`;
}
