import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { python, sha256, skipNote, tempDir } from "@arraystore/conformance";
import { type ArrayDriver, isArrayStoreError } from "@arraystore/core";
import { describe, expect, it } from "vitest";
import { zarrAdapter } from "../src/index.js";

const hasTs = python.has("numpy", "tensorstore");
if (!hasTs)
	skipNote(
		"zarr worker reads of tensorstore arrays",
		python.missing("numpy", "tensorstore"),
	);

// tensorstore writes the arrays (rows 16-63 only: the first chunk row stays missing, i.e.
// fill) and answers the sha256 of the C-order bytes of the whole array and of a sub-box.
const TS_WRITE = `
import tensorstore as ts, numpy as np, hashlib
out = {}
for c in INPUT:
    spec = {"driver": c["driver"], "kvstore": {"driver": "file", "path": c["path"]}, "metadata": c["metadata"], "create": True}
    t = ts.open(spec).result()
    a = (np.arange(64 * 96, dtype="<f4").reshape(64, 96) * 0.5 + 3).astype("<f4")
    t[16:].write(a[16:]).result()
    full = np.ascontiguousarray(np.asarray(t.read().result()))
    sub = np.ascontiguousarray(full[5:50, 7:90])
    out[c["path"]] = {"full": hashlib.sha256(full.tobytes()).hexdigest(), "sub": hashlib.sha256(sub.tobytes()).hexdigest()}
print(json.dumps(out))
`;

const META = {
	zarr3: {
		shape: [64, 96],
		chunk_grid: {
			name: "regular",
			configuration: { chunk_shape: [16, 32] },
		},
		chunk_key_encoding: { name: "default" },
		data_type: "float32",
		fill_value: 1.5,
		codecs: [
			{ name: "bytes", configuration: { endian: "little" } },
			{ name: "zstd", configuration: { level: 1 } },
		],
	},
	zarr: {
		shape: [64, 96],
		chunks: [16, 32],
		dtype: "<f4",
		order: "F",
		fill_value: 1.5,
		compressor: { id: "blosc", cname: "lz4", clevel: 5, shuffle: 1 },
	},
};

async function readShared(
	d: ArrayDriver,
	start: number[],
	shape: number[],
): Promise<Uint8Array> {
	const out = new Uint8Array(
		new SharedArrayBuffer((shape[0] ?? 0) * (shape[1] ?? 0) * 4),
	);
	await d.read({ start, shape }, out);
	return out;
}

// An F-order box read back as C-order bytes (what tensorstore hashed).
function toC(b: Uint8Array, rows: number, cols: number): Uint8Array {
	const f = new Float32Array(b.buffer.slice(0) as ArrayBuffer);
	const c = new Float32Array(rows * cols);
	for (let r = 0; r < rows; r++)
		for (let k = 0; k < cols; k++) c[r * cols + k] = f[k * rows + r] as number;
	return new Uint8Array(c.buffer);
}

describe.skipIf(!hasTs)("zarr: chunks read by the workers", () => {
	it("reads what tensorstore wrote into shared boxes, missing chunks as the fill value", async () => {
		await using tmp = await tempDir("zarr-wr-");
		const arrays = (["zarr3", "zarr"] as const).map((driver) => ({
			driver,
			path: tmp.join(`${driver}.zarr`),
			metadata: META[driver],
		}));
		const want = python.run<Record<string, { full: string; sub: string }>>(
			TS_WRITE,
			arrays,
		);
		for (const a of arrays) {
			const d = await zarrAdapter.open(a.path, {
				mode: "r",
				path: "",
				adapterOptions: { workers: 2 },
			});
			const f = a.driver === "zarr" ? toC : (b: Uint8Array) => b;
			const full = await readShared(d, [0, 0], [64, 96]);
			const sub = await readShared(d, [5, 7], [45, 83]);
			await d.close();
			expect(sha256(f(full, 64, 96)), a.driver).toBe(want[a.path]?.full);
			expect(sha256(f(sub, 45, 83)), a.driver).toBe(want[a.path]?.sub);
		}
	});

	it("reports a corrupt chunk as MALFORMED", async () => {
		await using tmp = await tempDir("zarr-wr-");
		const path = tmp.join("c.zarr");
		python.run(TS_WRITE, [{ driver: "zarr3", path, metadata: META.zarr3 }]);
		await writeFile(join(path, "c", "1", "1"), new Uint8Array(100).fill(9));
		const d = await zarrAdapter.open(path, {
			mode: "r",
			path: "",
			adapterOptions: { workers: 2 },
		});
		const err = await readShared(d, [0, 0], [64, 96]).then(
			() => undefined,
			(e: unknown) => e,
		);
		await d.close();
		expect(isArrayStoreError(err), String(err)).toBe(true);
		expect((err as { code: string }).code).toBe("MALFORMED");
	});
});
