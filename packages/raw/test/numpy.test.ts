import {
	type NaiveIndex,
	naiveAssign,
	python,
	randomBytes,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import {
	type ArrayStore,
	type DType,
	isBigEndian,
	makeArrayData,
	parseDType,
	swapInPlace,
	withByteOrder,
} from "@arraystore/core";
import { createRegistry } from "@arraystore/core/node";
import { describe, expect, it } from "vitest";
import { adapterFor, IO_PATHS } from "./helpers.js";

const hasNumpy = python.has("numpy");
if (!hasNumpy) skipNote("raw: numpy interop", python.missing("numpy"));

interface Case {
	readonly dtype: unknown;
	readonly shape: number[];
	readonly order: "C" | "F";
	readonly offset: number;
}
const CASES: readonly Case[] = [
	{ dtype: "<f4", shape: [7, 5], order: "C", offset: 0 },
	{ dtype: ">i8", shape: [4, 3, 2], order: "C", offset: 24 },
	{ dtype: "<c16", shape: [3, 4], order: "F", offset: 0 },
	{ dtype: ">f8", shape: [5, 6], order: "F", offset: 128 },
	{ dtype: ">u2", shape: [2, 3, 4], order: "F", offset: 7 },
	{ dtype: "|S5", shape: [6], order: "C", offset: 3 },
	{ dtype: "<M8[ns]", shape: [5], order: "C", offset: 0 },
	{
		dtype: [
			["a", "<i4"],
			["b", ">f8", [2]],
			["c", "|S3"],
		],
		shape: [4, 2],
		order: "C",
		offset: 0,
	},
];

// numpy dtype from our sidecar / JSON descriptor (field lists arrive as JSON lists).
const PY_DESCR = `
def descr(d):
    if isinstance(d, str):
        return d
    return [tuple([f[0], descr(f[1])] + ([tuple(f[2])] if len(f) > 2 else [])) for f in d]
`;
// Each script handles every case in one interpreter start (a start costs ~0.3 s).
const PY_READ = `${PY_DESCR}
import numpy as np, base64
out = []
for it in INPUT:
    a = np.memmap(it["file"], dtype=np.dtype(descr(it["dtype"])), mode="r", offset=it["offset"], shape=tuple(it["shape"]), order=it["order"])
    side = None
    if it.get("sidecar"):
        s = json.load(open(it["file"] + ".json"))
        side = [bool(np.dtype(descr(s["dtype"])) == a.dtype), s["shape"], s["order"], s["offset"], s["byte_length"] == a.nbytes]
    with open(it["file"], "rb") as f:
        head = f.read(it["offset"])
    out.append({"bytes": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode(), "side": side, "head": base64.b64encode(head).decode()})
    del a
print(json.dumps(out))
`;
const PY_WRITE = `${PY_DESCR}
import numpy as np, base64
out = []
for it in INPUT:
    dt = np.dtype(descr(it["dtype"]))
    n = int(np.prod(it["shape"]))
    raw = np.random.default_rng(it["seed"]).integers(0, 256, size=n * dt.itemsize, dtype=np.uint8)
    if dt.kind == "M":
        raw = np.arange(n, dtype="<i8").astype(dt.newbyteorder("<")).view(np.uint8)
    values = np.frombuffer(raw.tobytes(), dtype=dt).reshape(it["shape"])
    with open(it["file"], "wb") as f:
        f.write(b"\x5a" * it["offset"])
    m = np.memmap(it["file"], dtype=dt, mode="r+", offset=it["offset"], shape=tuple(it["shape"]), order=it["order"])
    m[...] = values
    m.flush()
    del m
    out.append(base64.b64encode(np.ascontiguousarray(values).tobytes()).decode())
print(json.dumps(out))
`;

interface PyRead {
	readonly bytes: string;
	readonly side: unknown[] | null;
	readonly head: string;
}

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
// Native-order C bytes → the stored dtype's byte order (what numpy's tobytes() gives).
function toStored(dtype: DType, native: Uint8Array): Uint8Array {
	const out = native.slice();
	if (isBigEndian(dtype)) swapInPlace(dtype, out);
	return out;
}

describe.skipIf(!hasNumpy)("raw: numpy interop", () => {
	const cases = CASES.map((c) => {
		const dtype = parseDType(c.dtype as string);
		return {
			...c,
			dtype,
			descr: c.dtype,
			n: c.shape.reduce((a, b) => a * b, 1),
			label: `${dtype.fields ? "structured" : dtype.str} [${c.shape}] ${c.order} offset ${c.offset}`,
		};
	});
	const labels = cases.map((c) => c.label).join("; ");

	for (const io of IO_PATHS) {
		const registry = createRegistry([adapterFor(io.mmap)]);

		it(`${io.name}: numpy.memmap reads what w+ wrote (${labels})`, async () => {
			await using tmp = await tempDir();
			const natives: Uint8Array[] = [];
			for (const [i, c] of cases.entries()) {
				const native = randomBytes(c.dtype, c.n, 17 + i);
				natives.push(native);
				await using store = await registry.create(tmp.join(`w${i}.dat`), {
					format: "raw",
					dtype: c.dtype,
					shape: c.shape,
					order: c.order,
					offset: c.offset,
				});
				await store.write(
					[],
					makeArrayData(withByteOrder(c.dtype, "native"), c.shape, native),
				);
			}
			const got = python.run<PyRead[]>(
				PY_READ,
				cases.map((c, i) => ({
					file: tmp.join(`w${i}.dat`),
					dtype: c.descr,
					shape: c.shape,
					order: c.order,
					offset: c.offset,
					sidecar: true,
				})),
			);
			for (const [i, c] of cases.entries()) {
				const r = got[i] as PyRead;
				expect(b64(r.bytes), c.label).toEqual(
					toStored(c.dtype, natives[i] as Uint8Array),
				);
				expect(r.side, c.label).toEqual([
					true,
					c.shape,
					c.order,
					c.offset,
					true,
				]);
				expect(b64(r.head), c.label).toEqual(new Uint8Array(c.offset));
			}
		});

		it(`${io.name}: reads what numpy wrote, and numpy reads what r+ changed (${labels})`, async () => {
			await using tmp = await tempDir();
			const files = cases.map((_, i) => tmp.join(`n${i}.dat`));
			const originals = python
				.run<string[]>(
					PY_WRITE,
					cases.map((c, i) => ({
						file: files[i],
						dtype: c.descr,
						shape: c.shape,
						order: c.order,
						offset: c.offset,
						seed: 5 + i,
					})),
				)
				.map(b64);
			const expected: Uint8Array[] = [];
			for (const [i, c] of cases.entries()) {
				const original = originals[i] as Uint8Array;
				const sel: NaiveIndex[] =
					c.shape.length > 1
						? [{ start: 1, stop: c.shape[0] }, { step: 2 }]
						: [{ start: 1, stop: -1, step: 2 }];
				const want = original.slice();
				await using store = (await registry.open(files[i] as string, {
					format: "raw",
					mode: "r+",
					dtype: c.dtype,
					shape: c.shape,
					order: c.order,
					offset: c.offset,
				})) as ArrayStore;
				expect(toStored(c.dtype, (await store.read()).bytes), c.label).toEqual(
					original,
				);
				const part = await store.read(sel);
				const values = randomBytes(
					c.dtype,
					part.bytes.length / c.dtype.itemsize,
					23 + i,
				);
				await store.write(
					sel,
					makeArrayData(withByteOrder(c.dtype, "native"), part.shape, values),
				);
				naiveAssign(
					want,
					c.shape,
					c.dtype.itemsize,
					sel,
					toStored(c.dtype, values),
				);
				expected.push(want);
			}
			const got = python.run<PyRead[]>(
				PY_READ,
				cases.map((c, i) => ({
					file: files[i],
					dtype: c.descr,
					shape: c.shape,
					order: c.order,
					offset: c.offset,
				})),
			);
			for (const [i, c] of cases.entries()) {
				const r = got[i] as PyRead;
				expect(b64(r.bytes), c.label).toEqual(expected[i]);
				// The bytes before the offset (numpy's 0x5a filler) are untouched.
				expect(b64(r.head), c.label).toEqual(
					new Uint8Array(c.offset).fill(0x5a),
				);
			}
		});
	}
});
