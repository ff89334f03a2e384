import { readFile, stat, writeFile } from "node:fs/promises";
import {
	pythonLegacy,
	sha256,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import {
	type ArrayData,
	type ContainerStore,
	isArrayStoreError,
	makeArrayData,
	parseDType,
	withByteOrder,
} from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { vacuumMmappickle } from "../src/index.js";
import {
	fixturePath,
	hashAs,
	manifestFiles,
	openContainer,
	registry,
} from "./helpers.js";

const EXACT = { align: false };

interface Frame {
	readonly key: string;
}

function framesOf(rel: string): string[] {
	const f = manifestFiles().find((x) => x.path === rel) as unknown as {
		frames: Frame[];
	};
	return f.frames.map((x) => x.key);
}

/** Copies every array of a fixture into a new file in the fixture's frame order. */
async function copyArrays(
	src: ContainerStore,
	dst: ContainerStore,
	keys: readonly string[],
): Promise<void> {
	for (const key of keys) {
		await using a = await src.openArray(key);
		const data = await a.read();
		await using b = await dst.createArray(key, {
			dtype: a.info.dtype,
			shape: a.info.shape,
		});
		await b.write([], data);
	}
}

describe("mmappickle: writing reproduces mmappickle 1.0.1 bytes (align: false)", () => {
	for (const rel of [
		"mmappickle/dtypes.mmdpickle",
		"mmappickle/shapes.mmdpickle",
	]) {
		it(`rewrites ${rel} byte for byte`, async () => {
			await using tmp = await tempDir();
			const out = tmp.join("copy.mmdpickle");
			{
				await using src = await openContainer(rel);
				await using dst = await registry.openContainer(out, {
					mode: "w+",
					format: "mmappickle",
					adapterOptions: EXACT,
				});
				await copyArrays(src, dst, framesOf(rel));
			}
			expect(sha256(await readFile(out))).toBe(
				sha256(await readFile(fixturePath(rel))),
			);
		});
	}

	it("reproduces deleted_key (generic value, deletes, commit counter)", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("d.mmdpickle");
		{
			await using src = await openContainer("mmappickle/deleted_key.mmdpickle");
			await using dst = await registry.openContainer(out, {
				mode: "w+",
				format: "mmappickle",
				adapterOptions: EXACT,
			});
			await copyArrays(src, dst, ["a"]);
			await dst.setAttrs("", { b: "to be deleted" });
			await createFrom(
				dst,
				"c",
				parseDType("<i4"),
				[3],
				Int32Array.from([0, 1, 2]),
			);
			await createFrom(
				dst,
				"d",
				parseDType("<i2"),
				[4],
				Int16Array.from([0, 1, 2, 3]),
			);
			await dst.delete?.("b");
			await dst.delete?.("d");
			expect((await dst.list("")).map((e) => e.path)).toEqual(["a", "c"]);
		}
		expect(sha256(await readFile(out))).toBe(
			sha256(await readFile(fixturePath("mmappickle/deleted_key.mmdpickle"))),
		);
		// vacuum() then gives mmappickle's vacuumed file (a, b, c; b deleted → same live frames).
		await vacuumFromScratch(tmp.join("v.mmdpickle"));
	});

	it("reproduces overwritten_key (overwrite = invalidate + append, commit + 2)", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("o.mmdpickle");
		{
			await using dst = await registry.openContainer(out, {
				mode: "w+",
				format: "mmappickle",
				adapterOptions: EXACT,
			});
			await createFrom(
				dst,
				"x",
				parseDType("<i4"),
				[4],
				Int32Array.from([0, 1, 2, 3]),
			);
			await dst.setAttrs("", { y: "first" });
			await createFrom(
				dst,
				"x",
				parseDType("<f8"),
				[2, 3],
				Float64Array.from([0, 1, 2, 3, 4, 5]),
			);
			await dst.setAttrs("", { y: "second" });
		}
		expect(sha256(await readFile(out))).toBe(
			sha256(
				await readFile(fixturePath("mmappickle/overwritten_key.mmdpickle")),
			),
		);
	});
});

async function createFrom(
	dst: ContainerStore,
	key: string,
	dtype: ReturnType<typeof parseDType>,
	shape: number[],
	values: ArrayBufferView,
): Promise<void> {
	await using s = await dst.createArray(key, { dtype, shape });
	await s.write(
		[],
		makeArrayData(
			dtype,
			shape,
			new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
		),
	);
}

async function vacuumFromScratch(out: string): Promise<void> {
	{
		await using dst = await registry.openContainer(out, {
			mode: "w+",
			format: "mmappickle",
			adapterOptions: EXACT,
		});
		await createFrom(
			dst,
			"a",
			parseDType("<f8"),
			[5],
			Float64Array.from([0, 1, 2, 3, 4]),
		);
		await dst.setAttrs("", { b: "to be deleted" });
		await createFrom(
			dst,
			"c",
			parseDType("<i4"),
			[3],
			Int32Array.from([0, 1, 2]),
		);
		await dst.delete?.("b");
	}
	const r = await vacuumMmappickle(out);
	expect(r.removedFrames).toBe(1);
	expect(sha256(await readFile(out))).toBe(
		sha256(await readFile(fixturePath("mmappickle/vacuumed.mmdpickle"))),
	);
}

describe("mmappickle: writing", () => {
	it("keeps its frame layout in step over many writes, overwrites and deletes", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("many.mmdpickle");
		const expectValues = async (c: ContainerStore) => {
			expect((await c.list("")).map((e) => e.path)).toEqual(
				Array.from(
					{ length: 20 },
					(_, i) => `k${String(i).padStart(2, "0")}`,
				).filter((_, i) => i % 5 !== 0),
			);
			for (let i = 0; i < 20; i++) {
				if (i % 5 === 0) continue;
				await using a = await c.openArray(`k${String(i).padStart(2, "0")}`);
				expect(Array.from((await a.read()).data as Float64Array)).toEqual(
					Array.from({ length: i + 1 }, () => i * 10),
				);
			}
			expect(await c.attrs("")).toEqual({ note: "v19" });
		};
		{
			await using c = await registry.openContainer(out, { mode: "w+" });
			for (let round = 0; round < 2; round++) {
				for (let i = 0; i < 20; i++) {
					const key = `k${String(i).padStart(2, "0")}`;
					await using _s = await c.createArray(key, {
						dtype: "<f8",
						shape: [i + 1],
						fillValue: round === 0 ? -1 : i * 10,
					});
					await c.setAttrs("", { note: `v${i}` });
				}
			}
			for (let i = 0; i < 20; i += 5)
				await c.delete?.(`k${String(i).padStart(2, "0")}`);
			await expectValues(c);
		}
		await using c = await registry.openContainer(out);
		await expectValues(c);
	});

	it("aligns array data to 64 bytes by default and reads it back", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("a.mmdpickle");
		{
			await using c = await registry.openContainer(out, { mode: "w+" });
			for (const [i, key] of ["x", "longer_key", "é"].entries())
				await createFrom(
					c,
					key,
					parseDType("<f8"),
					[i + 1],
					Float64Array.from({ length: i + 1 }, (_, j) => j + 0.5),
				);
		}
		await using c = await registry.openContainer(out);
		expect(c.format).toBe("mmappickle");
		for (const [i, key] of ["x", "longer_key", "é"].entries()) {
			await using a = await c.openArray(key);
			expect((a.info.byteOffset as number) % 64).toBe(0);
			expect(Array.from((await a.read()).data as Float64Array)).toEqual(
				Array.from({ length: i + 1 }, (_, j) => j + 0.5),
			);
		}
	});

	it("writes in place in r+ without changing the commit number", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("r.mmdpickle");
		{
			await using c = await registry.openContainer(out, { mode: "w+" });
			await createFrom(
				c,
				"v",
				parseDType("<i4"),
				[4],
				Int32Array.from([1, 2, 3, 4]),
			);
		}
		const before = await readFile(out);
		{
			await using a = await registry.open(`${out}#v`, { mode: "r+" });
			await a.write([2], 99);
		}
		const after = await readFile(out);
		expect(after.length).toBe(before.length);
		expect(after.subarray(18, 22)).toEqual(before.subarray(18, 22));
		await using a = await registry.open(`${out}#v`);
		expect(Array.from((await a.read()).data as Int32Array)).toEqual([
			1, 2, 99, 4,
		]);
	});

	it("refuses bad keys and structured dtypes before touching the file", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("k.mmdpickle");
		await using c = await registry.openContainer(out, { mode: "w+" });
		const before = await readFile(out);
		const err = await c
			.createArray("k".repeat(256), { dtype: "<f4", shape: [2] })
			.catch((e: unknown) => e);
		expect(isArrayStoreError(err, "INVALID_SELECTION")).toBe(true);
		const err2 = await c
			.createArray("s", { dtype: [["a", "<i4"]], shape: [2] })
			.catch((e: unknown) => e);
		expect(isArrayStoreError(err2, "UNSUPPORTED_DTYPE")).toBe(true);
		expect(await readFile(out)).toEqual(before);
	});

	it("creates an array in an existing file through registry.create, leaving other keys", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("c.mmdpickle");
		await writeFile(
			out,
			await readFile(fixturePath("mmappickle/vacuumed.mmdpickle")),
		);
		{
			await using s = await registry.create(`${out}#new`, {
				dtype: "<u2",
				shape: [3],
				fillValue: 7,
			});
			expect(s.format).toBe("mmappickle");
		}
		await using c = await registry.openContainer(out);
		expect((await c.list("")).map((e) => e.path)).toEqual(["a", "c", "new"]);
		await using n = await c.openArray("new");
		expect(Array.from((await n.read()).data as Uint16Array)).toEqual([7, 7, 7]);
		expect((await stat(out)).size).toBeGreaterThan(315);
	});
});

// --- interop: numpy 1.24's plain pickle.load reads what we write ---

const CASES: [string, string, number[]][] = [
	["b1", "|b1", [5]],
	["i1", "|i1", [2, 3]],
	["i2", "<i2", [4]],
	["i8", "<i8", [3]],
	["u4", "<u4", [2, 2]],
	["u8", "<u8", [3]],
	["f2", "<f2", [4]],
	["f4", "<f4", [3, 4]],
	["f8_be", ">f8", [5]],
	["i4_be", ">i4", [2, 2, 2, 2]],
	["c8", "<c8", [3]],
	["c16_be", ">c16", [2]],
	["s5", "|S5", [3]],
	["u3", "<U3", [2]],
	["v4", "|V4", [2]],
	["m8", "<M8[D]", [3]],
	["td", "<m8[s]", [2]],
	["zero_d", "<f8", []],
	["empty", "<i4", [0, 3]],
	["big", "<f4", [300, 301]],
];

describe.skipIf(!pythonLegacy.has("numpy"))(
	"mmappickle: numpy 1.24 pickle.load reads our files",
	() => {
		if (!pythonLegacy.has("numpy"))
			skipNote("mmappickle interop", pythonLegacy.missing("numpy"));
		for (const align of [64, false] as const) {
			it(`loads arrays and values (align: ${align})`, async () => {
				await using tmp = await tempDir();
				const out = tmp.join("interop.mmdpickle");
				const expected: Record<
					string,
					{ dtype: string; shape: number[]; sha256: string }
				> = {};
				{
					await using c = await registry.openContainer(out, {
						mode: "w+",
						format: "mmappickle",
						adapterOptions: { align },
					});
					for (const [i, [key, descr, shape]] of CASES.entries()) {
						const dtype = parseDType(descr);
						const n = shape.reduce((a, b) => a * b, 1) * dtype.itemsize;
						const bytes = Uint8Array.from(
							{ length: n },
							(_, j) => (j * 31 + i * 7) & 0xff,
						);
						// bool elements must be 0 or 1.
						if (dtype.kind === "b")
							for (let j = 0; j < n; j++) bytes[j] = (bytes[j] as number) & 1;
						const data: ArrayData = makeArrayData(
							withByteOrder(dtype, "native"),
							shape,
							bytes,
						);
						await using s = await c.createArray(key, { dtype, shape });
						await s.write([], data);
						expected[key] = {
							dtype: dtype.str,
							shape,
							sha256: hashAs(data, dtype.str),
						};
					}
					await c.setAttrs("", {
						label: "héllo",
						n: 42,
						huge: 2n ** 100n,
						f: 1.5,
						nothing: null,
						flags: [true, false],
						nested: { a: [1, "two"] },
					});
					await c.delete?.("i2");
					delete expected.i2;
				}
				const got = pythonLegacy.run<Record<string, unknown>>(
					`
import pickle, hashlib, numpy as np
with open(INPUT, "rb") as f:
    d = pickle.load(f)
out = {}
for k, v in d.items():
    if isinstance(v, np.ndarray):
        out[k] = {"dtype": v.dtype.str, "shape": list(v.shape), "sha256": hashlib.sha256(np.ascontiguousarray(v).tobytes()).hexdigest()}
    else:
        out[k] = {"repr": repr(v)}
print(json.dumps(out))
`,
					out,
				);
				for (const [key, e] of Object.entries(expected))
					expect(got[key], key).toEqual(e);
				expect(got.i2).toBeUndefined();
				expect(got.label).toEqual({ repr: "'héllo'" });
				expect(got.huge).toEqual({ repr: String(2n ** 100n) });
				expect(got.nested).toEqual({ repr: "{'a': [1, 'two']}" });
				expect(got.flags).toEqual({ repr: "[True, False]" });
				expect(got.f).toEqual({ repr: "1.5" });
				expect(got.nothing).toEqual({ repr: "None" });
				// And our own reader.
				await using c = await registry.openContainer(out);
				for (const [key, e] of Object.entries(expected)) {
					await using a = await c.openArray(key);
					expect(hashAs(await a.read(), e.dtype), key).toBe(e.sha256);
				}
				expect((await c.attrs("")).huge).toBe(2n ** 100n);
			});
		}
	},
);
