import { join } from "node:path";
import { describeArrayStore } from "@arraystore/conformance";
import { createRawAdapter, rawAdapter } from "../src/index.js";

// `huge` stays off: that case creates with `chunks`, which unchunked formats refuse (reported to
// the lead); large.test.ts covers more than 2^31 elements instead.
describeArrayStore({
	adapter: rawAdapter,
	makeTarget: (dir, name) => join(dir, `${name}.dat`),
});

// The positional-I/O fallback (what runs when mmap-io cannot load) must behave identically.
describeArrayStore({
	adapter: createRawAdapter({ mmap: false }),
	makeTarget: (dir, name) => join(dir, `${name}.raw`),
});
