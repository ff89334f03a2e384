// Module hooks that let a child `node` process run this package's TypeScript sources (Node 20
// cannot): `.js` imports that name a `.ts` file resolve to it, and `.ts` files are transpiled
// with TypeScript's transpileModule. Used with `--conditions=@arraystore/source` so workspace
// packages resolve to their sources, as under vitest. Test helper only.
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export async function resolve(specifier, context, next) {
	if (specifier.endsWith(".js") && context.parentURL?.endsWith(".ts")) {
		const url = new URL(specifier.replace(/\.js$/, ".ts"), context.parentURL);
		if (url.protocol === "file:" && existsSync(fileURLToPath(url)))
			return { url: url.href, shortCircuit: true };
	}
	return next(specifier, context);
}

export async function load(url, context, next) {
	if (!url.endsWith(".ts")) return next(url, context);
	const source = readFileSync(fileURLToPath(url), "utf8");
	const out = ts.transpileModule(source, {
		fileName: fileURLToPath(url),
		compilerOptions: {
			module: ts.ModuleKind.ESNext,
			target: ts.ScriptTarget.ES2022,
			sourceMap: false,
		},
	});
	return { format: "module", source: out.outputText, shortCircuit: true };
}
