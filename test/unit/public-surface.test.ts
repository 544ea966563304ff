// The package root is closed over its types: every type a public class, function or type of `src/index.ts` names
// in its public signature (options, results, events, AST and value variants) is exported from the root too, so a user
// can name it without reaching into dist/ paths.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = path.join(ROOT, 'src');

/** Members a user cannot reach: `private`/`protected` (incl. parameter properties and constructors) and `#names`. */
function isHidden(node: ts.Node): boolean {
  const member =
    ts.isPropertyDeclaration(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isGetAccessor(node) ||
    ts.isSetAccessor(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isParameter(node);
  if (!member) return false;
  const name = (node as ts.NamedDeclaration).name;
  if (name !== undefined && ts.isPrivateIdentifier(name)) return true;
  return (
    (ts.getCombinedModifierFlags(node as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !==
    0
  );
}

/** Types declared under src/ that the root's public declarations refer to but the root does not export. */
function unexportedTypes(): string[] {
  const entry = path.join(SRC, 'index.ts');
  const program = ts.createProgram([entry], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
  });
  const checker = program.getTypeChecker();
  const unalias = (s: ts.Symbol): ts.Symbol => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s);
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entry) as ts.SourceFile);
  const exported = new Set(checker.getExportsOfModule(moduleSymbol as ts.Symbol).map(unalias));
  const missing = new Map<string, string>();
  const seen = new Set<ts.Node>();
  const visit = (node: ts.Node, owner: string): void => {
    if (seen.has(node) || isHidden(node) || ts.isBlock(node)) return;
    seen.add(node);
    const ref = ts.isTypeReferenceNode(node)
      ? node.typeName
      : ts.isExpressionWithTypeArguments(node)
        ? node.expression
        : ts.isTypeQueryNode(node)
          ? node.exprName
          : undefined;
    const found = ref === undefined ? undefined : checker.getSymbolAtLocation(ref);
    if (found !== undefined) {
      const sym = unalias(found);
      const file = sym.declarations?.[0]?.getSourceFile().fileName ?? '';
      const local =
        file.startsWith(SRC) && (sym.flags & (ts.SymbolFlags.TypeParameter | ts.SymbolFlags.EnumMember)) === 0;
      if (local && !exported.has(sym) && !missing.has(sym.getName())) {
        missing.set(sym.getName(), `${sym.getName()} (${path.relative(ROOT, file)}, named by ${owner})`);
        for (const d of sym.declarations ?? []) visit(d, sym.getName());
      }
    }
    ts.forEachChild(node, (child) => {
      // Initializers are implementation, not signature.
      const initializer = (node as { initializer?: ts.Node }).initializer;
      if (child !== initializer || ts.isTypeNode(child)) visit(child, owner);
    });
  };
  for (const sym of exported) for (const d of sym.declarations ?? []) visit(d, sym.getName());
  return [...missing.values()].sort();
}

it('exports every type its public API names', () => {
  expect(unexportedTypes()).toEqual([]);
}, 60_000);
