// The one vitest config every package re-exports. The custom "@arraystore/source"
// condition comes first so workspace packages resolve to their TypeScript sources with no
// build; Vite's default conditions follow so third-party packages still resolve.
import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

export default defineConfig({
	resolve: { conditions: ["@arraystore/source", ...defaultClientConditions] },
	ssr: {
		resolve: { conditions: ["@arraystore/source", ...defaultServerConditions] },
	},
	test: {
		include: ["test/**/*.test.ts"],
		testTimeout: 120_000,
		hookTimeout: 120_000,
		pool: "forks",
		typecheck: {
			enabled: true,
			include: ["test/**/*.test-d.ts"],
			tsconfig: "./test/tsconfig.json",
		},
		reporters: [
			"default",
			["json", { outputFile: "test-results/vitest.json" }],
		],
	},
});
