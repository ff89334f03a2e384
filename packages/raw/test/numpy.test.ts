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
const PY_READ = `${PY_DESCR}
import numpy as np, base64
a = np.memmap(INPUT["file"], dtype=np.dtype(descr(INPUT["dtype"])), mode="r", offset=INPUT["offset"], shape=tuple(INPUT["shape"]), order=INPUT["order"])
side = None
if INPUT.get("sidecar"):
    s = json.load(open(INPUT["file"] + ".json"))
    side = [np.dtype(descr(s["dtype"])) == a.dtype, s["shape"], s["order"], s["offset"], s["byte_length"] == a.nbytes]
print(json.dumps({"bytes": base64.b64encode(np.ascontiguousarray(a).tobytes()).decode(), "side": side}))
`;
const PY_WRITE = `${PY_DESCR}
import numpy as np, base64
dt = np.dtype(descr(INPUT["dtype"]))
n = int(np.prod(INPUT["shape"]))
raw = np.random.default_rng(INPUT["seed"]).integers(0, 256, size=n * dt.itemsize, dtype=np.uint8)
if dt.kind == "M":
    raw = np.arange(n, dtype="<i8").astype(dt.newbyteorder("<")).view(np.uint8)
values = np.frombuffer(raw.tobytes(), dtype=dt).reshape(INPUT["shape"])
with open(INPUT["file"], "wb") as f:
    f.write(b"\\x5a" * INPUT["offset"])
m = np.memmap(INPUT["file"], dtype=dt, mode="r+", offset=INPUT["offset"], shape=tuple(INPUT["shape"]), order=INPUT["order"])
m[...] = values
m.flush()
del m
print(json.dumps(base64.b64encode(np.ascontiguousarray(values).tobytes()).decode()))
`;

const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));
// Native-order C bytes → the stored dtype's byte order (what numpy's tobytes() gives).
function toStored(dtype: DType, native: Uint8Array): Uint8Array {
	const out = native.slice();
	if (isBigEndian(dtype)) swapInPlace(dtype, out);
	return out;
}

describe.skipIf(!hasNumpy)("raw: numpy interop", () => {
	for (const io of IO_PATHS) {
		const registry = createRegistry([adapterFor(io.mmap)]);
		for (const c of CASES) {
			const dtype = parseDType(c.dtype as string);
			const label = `${dtype.fields ? "structured" : dtype.str} [${c.shape}] ${c.order} offset ${c.offset}`;
			const n = c.shape.reduce((a, b) => a * b, 1);

			it(`${io.name}: numpy.memmap reads what w+ wrote: ${label}`, async () => {
				await using tmp = await tempDir();
				const file = tmp.join("w.dat");
				const native = randomBytes(dtype, n, 17);
				{
					await using store = await registry.create(file, {
						format: "raw",
						dtype,
						shape: c.shape,
						order: c.order,
						offset: c.offset,
					});
					await store.write(
						[],
						makeArrayData(withByteOrder(dtype, "native"), c.shape, native),
					);
				}
				const got = python.run<{ bytes: string; side: unknown[] }>(PY_READ, {
					file,
					dtype: c.dtype,
					shape: c.shape,
					order: c.order,
					offset: c.offset,
					sidecar: true,
				});
				expect(b64(got.bytes)).toEqual(toStored(dtype, native));
				expect(got.side).toEqual([true, c.shape, c.order, c.offset, true]);
			});

			it(`${io.name}: reads what numpy wrote and numpy reads what r+ changed: ${label}`, async () => {
				await using tmp = await tempDir();
				const file = tmp.join("n.dat");
				const original = b64(
					python.run<string>(PY_WRITE, {
						file,
						dtype: c.dtype,
						shape: c.shape,
						order: c.order,
						offset: c.offset,
						seed: 5,
					}),
				);
				const sel: NaiveIndex[] =
					c.shape.length > 1
						? [{ start: 1, stop: c.shape[0] }, { step: 2 }]
						: [{ start: 1, stop: -1, step: 2 }];
				const expected = original.slice();
				{
					await using store = (await registry.open(file, {
						format: "raw",
						mode: "r+",
						dtype,
						shape: c.shape,
						order: c.order,
						offset: c.offset,
					})) as ArrayStore;
					expect(toStored(dtype, (await store.read()).bytes)).toEqual(original);
					const part = await store.read(sel);
					const values = randomBytes(
						dtype,
						part.bytes.length / dtype.itemsize,
						23,
					);
					await store.write(
						sel,
						makeArrayData(withByteOrder(dtype, "native"), part.shape, values),
					);
					naiveAssign(
						expected,
						c.shape,
						dtype.itemsize,
						sel,
						toStored(dtype, values),
					);
				}
				const got = python.run<{ bytes: string }>(PY_READ, {
					file,
					dtype: c.dtype,
					shape: c.shape,
					order: c.order,
					offset: c.offset,
				});
				expect(b64(got.bytes)).toEqual(expected);
			});
		}
	}
});
