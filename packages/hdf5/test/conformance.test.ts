// The shared conformance suite, run against HDF5 files (one dataset per target path).
import { join } from "node:path";
import { describeArrayStore } from "@arraystore/conformance";
import { hdf5Adapter } from "../src/index.js";

describeArrayStore({
	adapter: hdf5Adapter,
	makeTarget: (dir, name) => `${join(dir, `${name}.h5`)}#/${name}`,
});
