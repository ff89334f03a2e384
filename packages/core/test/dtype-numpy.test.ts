import { numpyName, parseDType, toDescr } from "@arraystore/core";
import { describe, expect, it } from "vitest";
// No package dependency: conformance depends on core.
import { python, skipNote } from "../../conformance/src/index.js";

// Descriptors in every form the model accepts; numpy says what each one is.
const DESCRS: unknown[] = [
	"<f4",
	">i2",
	"|b1",
	"<c16",
	"|S5",
	"<U3",
	"<M8[ns]",
	">m8[10s]",
	"|V12",
	"<f2",
	">u8",
	"<M8",
	[
		["a", "<i4"],
		["b", "<f8", [2]],
		["c", "|S3"],
	],
	[
		["a", ">i4"],
		["", "|V4"],
		[
			"n",
			[
				["x", "<u2"],
				["y", ">f4"],
			],
		],
	],
	[
		[["Title", "t"], "<i2"],
		["s", "<U2", [2, 3]],
	],
	[
		["é", "<f8"],
		["q'uote", "|b1"],
	],
];

describe("core: dtypes against numpy", () => {
	const ok = python.has("numpy");
	if (!ok) skipNote("dtype descriptors vs numpy", python.missing("numpy"));
	it.skipIf(!ok)(
		"agrees with numpy on itemsize, str, descr and str(dtype)",
		() => {
			const want = python.run<
				{ itemsize: number; str: string; descr: unknown; name: string }[]
			>(
				`import numpy as np
def conv(d):
    if isinstance(d, str): return d
    out = []
    for f in d:
        name = tuple(f[0]) if isinstance(f[0], list) else f[0]
        t = conv(f[1])
        out.append((name, t, tuple(f[2])) if len(f) > 2 else (name, t))
    return out
def js(x):
    if isinstance(x, (list, tuple)): return [js(v) for v in x]
    return x
res = []
for d in INPUT:
    # npy semantics: '' names are padding, as np.lib.format reads a header's descr.
    dt = np.dtype(d) if isinstance(d, str) else np.lib.format.descr_to_dtype(conv(d))
    res.append({"itemsize": dt.itemsize, "str": dt.str, "descr": js(dt.descr) if dt.names else dt.str, "name": str(dt)})
print(json.dumps(res))`,
				DESCRS,
			);
			DESCRS.forEach((d, i) => {
				const dt = parseDType(d as never);
				const w = want[i];
				expect(dt.itemsize, JSON.stringify(d)).toBe(w?.itemsize);
				expect(dt.str, JSON.stringify(d)).toBe(w?.str);
				expect(toDescr(dt), JSON.stringify(d)).toEqual(w?.descr);
				expect(numpyName(dt), JSON.stringify(d)).toBe(w?.name);
			});
		},
	);
});
