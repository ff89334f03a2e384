import { join } from "node:path";
import { describeArrayStore } from "@arraystore/conformance";
import { createZarrAdapter } from "../src/index.js";

// One store per array, both versions; v3 writes the spec's core types only (checkDType says so).
describeArrayStore({
	adapter: createZarrAdapter({ zarrFormat: 3 }),
	makeTarget: (dir, name) => join(dir, `${name}.zarr`),
	huge: true,
});
describeArrayStore({
	adapter: createZarrAdapter({ zarrFormat: 2 }),
	makeTarget: (dir, name) => join(dir, `${name}.zarr`),
});
// Arrays inside a group of a store.
describeArrayStore({
	adapter: createZarrAdapter({ zarrFormat: 2 }),
	makeTarget: (dir, name) => `${join(dir, "store.zarr")}#grp/${name}`,
});
