import { join } from "node:path";
import { describeArrayStore } from "@arraystore/conformance";
import { mmappickleAdapter } from "../src/index.js";

// Every array lives in one mmappickle file per test, keyed by name.
describeArrayStore({
	adapter: mmappickleAdapter,
	makeTarget: (dir, name) => `${join(dir, "f.mmdpickle")}#${name}`,
});

// The same with positional I/O instead of memory maps (what the converter uses to bound memory).
describeArrayStore({
	adapter: mmappickleAdapter,
	makeTarget: (dir, name) => `${join(dir, "p.mmdpickle")}#${name}`,
	adapterOptions: { mmap: false },
});
