import { describe, expect, it } from "vitest";

describe("mmappickle: public API", () => {
	it("exports exactly these names", async () => {
		const api = await import("../src/index.js");
		expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
			[
			  "DEFAULT_VM_LIMITS",
			  "allowedGlobals",
			  "mmappickleAdapter",
			  "pickleAdapter",
			  "vacuumMmappickle",
			]
		`);
	});
});
