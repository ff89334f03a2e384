import { parseDType } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import {
	type NaiveIndex,
	naiveSelect,
	python,
	randomBytes,
	skipNote,
} from "../src/index.js";

// The suite's reference evaluator must itself agree with numpy, or it proves nothing.
const SELECTIONS: NaiveIndex[][] = [
	[],
	[3],
	[-1, 2],
	[{ start: 1, stop: -1, step: 2 }],
	[{ step: -1 }, null, { start: -3 }],
	[{ start: 6, stop: 0, step: -3 }, 2, { start: -2 }],
	[{ start: 10, stop: 20 }],
	[
		{ start: -100, stop: 100, step: 3 },
		{ start: 5, stop: 1, step: -1 },
	],
];

describe("conformance: naive selection evaluator", () => {
	const ok = python.has("numpy");
	if (!ok) skipNote("naive evaluator vs numpy", python.missing("numpy"));
	it.skipIf(!ok)("agrees with numpy basic indexing", () => {
		const shape = [7, 6, 5];
		const data = new Uint8Array(210).map((_, i) => i);
		const want = python.run<{ shape: number[]; values: number[] }[]>(
			`import numpy as np
a = np.arange(210, dtype=np.uint8).reshape(7, 6, 5)
def idx(s):
    if s is None: return slice(None)
    if isinstance(s, int): return s
    return slice(s.get("start"), s.get("stop"), s.get("step"))
out = []
for sel in INPUT:
    r = a[tuple(idx(s) for s in sel)]
    out.append({"shape": list(r.shape), "values": r.ravel().tolist()})
print(json.dumps(out))`,
			SELECTIONS,
		);
		SELECTIONS.forEach((sel, i) => {
			const got = naiveSelect(data, shape, 1, sel);
			expect(got.shape).toEqual(want[i]?.shape);
			expect([...got.bytes]).toEqual(want[i]?.values);
		});
	});
	it("makes valid elements in native byte order for every kind", () => {
		const b1 = randomBytes(parseDType("|b1"), 100, 1);
		expect(b1.every((x) => x === 0 || x === 1)).toBe(true);
		const f2 = new Uint16Array(randomBytes(parseDType(">f2"), 50, 2).buffer);
		expect([...f2].every((h) => (h & 0x7c00) !== 0x7c00)).toBe(true);
		expect(randomBytes(parseDType("<U3"), 4, 3).length).toBe(48);
	});
});
