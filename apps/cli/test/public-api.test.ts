import { describe, expect, it } from "vitest";

describe("cli: public API", () => {
	it("exports exactly these names", async () => {
		const api = await import("@arraystore/cli");
		expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
			[
			  "EXIT",
			  "FORMAT_ALIASES",
			  "HELP",
			  "OUTPUT_EXTENSIONS",
			  "PARTIAL_SUFFIX",
			  "UsageError",
			  "VERSION",
			  "builtinRegistry",
			  "commitOutput",
			  "discardPartial",
			  "errorCodeOf",
			  "errorLine",
			  "exitCodeFor",
			  "fileJournalStorage",
			  "outputPaths",
			  "parseCodecs",
			  "parseMemory",
			  "parseShapeList",
			  "pathExists",
			  "registerBuiltinAdapters",
			  "runCli",
			  "sourceFingerprint",
			]
		`);
	});
});
