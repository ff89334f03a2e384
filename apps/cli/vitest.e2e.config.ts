// End-to-end tests: they spawn `node bin/convert.mjs` (the built CLI), so turbo builds first.
import base from "@arraystore/vitest-config";
import { defineConfig } from "vitest/config";

export default defineConfig({
	...base,
	test: {
		...base.test,
		include: ["test/**/*.e2e.test.ts"],
		testTimeout: 300_000,
		hookTimeout: 300_000,
		reporters: [
			"default",
			["json", { outputFile: "test-results/vitest-e2e.json" }],
		],
	},
});
