import { join } from "node:path";
import { describeArrayStore } from "@arraystore/conformance";
import { npyAdapter, npzAdapter } from "../src/index.js";

describeArrayStore({
	adapter: npyAdapter,
	makeTarget: (dir, name) => join(dir, `${name}.npy`),
	huge: true,
});

// The positional-I/O path (what runs when mmap-io cannot load) must behave identically.
describeArrayStore({
	adapter: npyAdapter,
	makeTarget: (dir, name) => join(dir, `${name}.npy`),
	adapterOptions: { mmap: false },
});

// Arrays inside an archive: stored members (np.savez) and deflated members (np.savez_compressed).
describeArrayStore({
	adapter: npzAdapter,
	makeTarget: (dir, name) => `${join(dir, "arrays.npz")}#${name}`,
});

describeArrayStore({
	adapter: npzAdapter,
	makeTarget: (dir, name) => `${join(dir, "deflated.npz")}#${name}`,
	adapterOptions: { compression: "deflated" },
});
