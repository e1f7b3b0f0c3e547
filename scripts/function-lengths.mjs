#!/usr/bin/env node
/**
 * Lists every function, method, constructor, accessor and arrow function in
 * src/ and webview/ that is longer than a limit, longest first, and exits 1
 * when there is one. The team's guide asks for short functions (a screen;
 * none over 120 lines); this is the check that keeps it so.
 *
 *   node scripts/function-lengths.mjs [--max 120] [folder or file ...]
 *
 * A function's length is counted from its first line (its signature, not the
 * doc comment above it) to its closing line, both included. A nested function
 * counts towards its parent's length as well as its own.
 */
import * as fs from 'fs';
import * as path from 'path';
import ts from 'typescript';

const DEFAULT_MAX = 120;
const DEFAULT_ROOTS = ['src', 'webview'];
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs|cjs)$/;

function parseArgs(argv) {
  let max = DEFAULT_MAX;
  const roots = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--max') max = Number(argv[++i]);
    else if (a.startsWith('--max=')) max = Number(a.slice('--max='.length));
    else if (a === '-h' || a === '--help') {
      console.log('usage: node scripts/function-lengths.mjs [--max N] [folder or file ...]');
      process.exit(0);
    } else roots.push(a);
  }
  if (!Number.isInteger(max) || max < 1) {
    console.error(`--max must be a whole number ≥ 1, got ${max}`);
    process.exit(2);
  }
  return { max, roots: roots.length ? roots : DEFAULT_ROOTS };
}

/** Source files under `root` (a file is taken as it is); declaration files and node_modules are skipped. */
function sourceFiles(root) {
  if (!fs.existsSync(root)) return [];
  if (fs.statSync(root).isFile()) return [root];
  const out = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const p = path.join(root, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(p));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

function isFunctionLike(node) {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

/** The name a reader would search for: the declared one, or the variable or property an anonymous function is bound to. */
function functionName(node, sf) {
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (node.name) return node.name.getText(sf);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) {
    return parent.name.getText(sf);
  }
  return '<anonymous>';
}

function lineOf(sf, pos) {
  return sf.getLineAndCharacterOfPosition(pos).line + 1;
}

function longFunctions(file, max) {
  const text = fs.readFileSync(file, 'utf8');
  const kind = /\.tsx$/.test(file) ? ts.ScriptKind.TSX : /\.[cm]?js$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const found = [];
  const visit = (node) => {
    if (isFunctionLike(node) && node.body) {
      const first = lineOf(sf, node.getStart(sf));
      const lines = lineOf(sf, node.getEnd()) - first + 1;
      if (lines > max) found.push({ file, line: first, name: functionName(node, sf), lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

const { max, roots } = parseArgs(process.argv.slice(2));
const files = roots.flatMap(sourceFiles);
const long = files.flatMap((f) => longFunctions(f, max)).sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file));
for (const f of long) console.log(`${f.lines.toString().padStart(5)}  ${f.file}:${f.line}  ${f.name}`);
if (long.length) {
  console.error(`${long.length} function${long.length === 1 ? '' : 's'} longer than ${max} lines (in ${files.length} files)`);
  process.exit(1);
}
console.log(`no function longer than ${max} lines (in ${files.length} files)`);
