import { join } from "node:path";
import { describeArrayStore } from "@arraystore/conformance";
import { createRawAdapter, rawAdapter } from "../src/index.js";

describeArrayStore({
	adapter: rawAdapter,
	makeTarget: (dir, name) => join(dir, `${name}.dat`),
	huge: true,
});

// The positional-I/O fallback (what runs when mmap-io cannot load) must behave identically.
describeArrayStore({
	adapter: createRawAdapter({ mmap: false }),
	makeTarget: (dir, name) => join(dir, `${name}.raw`),
	huge: true,
});
