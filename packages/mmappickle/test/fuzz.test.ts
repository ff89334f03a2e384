import { readdirSync, readFileSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { PICKLE_DIR, python, skipNote, tempDir } from "@arraystore/conformance";
import { type ContainerStore, isArrayStoreError } from "@arraystore/core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toAttr } from "../src/attr-value.js";
import { concat } from "../src/mmappickle/format.js";
import { ByteReader, memoryInput } from "../src/pickle-vm/byte-reader.js";
import { PyBytes } from "../src/pickle-vm/values.js";
import { runPickle } from "../src/pickle-vm/vm.js";
import { addValue } from "../src/tree.js";
import { registry } from "./helpers.js";

const corpus: Uint8Array[] = [];
const mmp: Uint8Array[] = [];
for (const sub of ["legacy", "joblib", "malicious", "broken", "mmappickle"]) {
	for (const name of readdirSync(join(PICKLE_DIR, sub))) {
		const p = join(PICKLE_DIR, sub, name);
		if (statSync(p).size > 200_000 || name.includes("zlib")) continue;
		const b = new Uint8Array(readFileSync(p));
		corpus.push(b);
		if (name.endsWith(".mmdpickle") && b.length < 20_000) mmp.push(b);
	}
}

type Edit = {
	readonly pos: number;
	readonly kind: "flip" | "set" | "cut" | "del" | "dup" | "int";
	readonly val: number;
};

const edits = fc.array(
	fc.record({
		pos: fc.nat(),
		kind: fc.constantFrom<Edit["kind"]>(
			"flip",
			"set",
			"cut",
			"del",
			"dup",
			"int",
		),
		val: fc.nat(0xffffffff),
	}),
	{ minLength: 1, maxLength: 4 },
);

function mutate(src: Uint8Array, list: readonly Edit[]): Uint8Array {
	let b: Uint8Array = src.slice();
	for (const e of list) {
		if (b.length === 0) break;
		const at = e.pos % b.length;
		switch (e.kind) {
			case "flip":
				b[at] = (b[at] as number) ^ (1 << (e.val % 8));
				break;
			case "set":
				b[at] = e.val & 0xff;
				break;
			case "cut":
				b = b.slice(0, at);
				break;
			case "del":
				b = concat([b.subarray(0, at), b.subarray(at + 1 + (e.val % 8))]);
				break;
			case "dup":
				b = concat([
					b.subarray(0, at),
					b.subarray(at, at + 1 + (e.val % 16)),
					b.subarray(at),
				]);
				break;
			case "int":
				// A length field gone wild: four bytes of a big number.
				if (b.length >= 4)
					new DataView(b.buffer, b.byteOffset).setUint32(
						Math.min(at, b.length - 4),
						e.val,
						true,
					);
				break;
		}
	}
	return b;
}

/** Reads every array of a container, then its root attributes. */
async function readEverything(c: ContainerStore): Promise<void> {
	for (const e of await c.list("", { recursive: true })) {
		if (e.kind !== "array") continue;
		await using a = await c.openArray(e.path);
		await a.read();
	}
	await c.attrs("");
}

const PER_RUN_MS = 2000;

describe("fuzz: mutated pickles give a value or a typed error", () => {
	it("runs 10,000 mutated pickles through the VM and the tree/attribute conversion", async () => {
		let values = 0;
		let errors = 0;
		let slowest = 0;
		const rss0 = process.memoryUsage().rss;
		let rssPeak = rss0;
		let n = 0;
		await fc.assert(
			fc.asyncProperty(fc.nat(corpus.length - 1), edits, async (i, list) => {
				const bytes = mutate(corpus[i] as Uint8Array, list);
				const t0 = performance.now();
				try {
					const v = await runPickle(new ByteReader(memoryInput(bytes), 0), {
						fragment: false,
					});
					addValue(new Map(), "", v, false);
					await toAttr(v, async (d) =>
						d instanceof PyBytes
							? d.bytes
							: bytes.subarray(d.offset, d.offset + d.length),
					);
					values++;
				} catch (err) {
					if (!isArrayStoreError(err)) throw err;
					errors++;
				}
				slowest = Math.max(slowest, performance.now() - t0);
				if (++n % 250 === 0)
					rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
			}),
			{ seed: 20240611, numRuns: 10_000 },
		);
		expect(values + errors).toBe(10_000);
		expect(slowest).toBeLessThan(PER_RUN_MS);
		// Allocation stays bounded: the whole run may not grow the process by 1 GiB.
		expect(rssPeak - rss0).toBeLessThan(2 ** 30);
	}, 60_000);

	it("runs mutated mmappickle files through the adapter (structure, arrays, values)", async () => {
		await using tmp = await tempDir();
		let k = 0;
		await fc.assert(
			fc.asyncProperty(fc.nat(mmp.length - 1), edits, async (i, list) => {
				const path = tmp.join(`f${k++}.mmdpickle`);
				await writeFile(path, mutate(mmp[i] as Uint8Array, list));
				try {
					await using c = await registry.openContainer(path, {
						format: "mmappickle",
					});
					await readEverything(c);
				} catch (err) {
					if (!isArrayStoreError(err)) throw err;
				}
			}),
			{ seed: 7, numRuns: 400 },
		);
	}, 60_000);
});

const COMPRESSED = `
import joblib, numpy as np, io, base64
out = {}
for codec in INPUT:
    buf = io.BytesIO()
    arrs = {"a": np.arange(3000, dtype=">f8").reshape(30, 100), "b": np.asfortranarray(np.arange(600, dtype=np.int16).reshape(20, 30)), "m": {"k": [1, 2]}}
    joblib.dump(arrs, buf, compress=(codec, 3))
    out[codec] = base64.b64encode(buf.getvalue()).decode()
print(json.dumps(out))
`;

const FUZZ_CODECS = ["zlib", "gzip", "bz2", "lzma", "xz"];
if (python.has("lz4")) FUZZ_CODECS.push("lz4");

describe.skipIf(!python.has("joblib", "numpy"))(
	"fuzz: mutated compressed joblib files give a value or a typed error",
	() => {
		if (!python.has("joblib", "numpy"))
			skipNote("compressed fuzz", python.missing("joblib", "numpy"));
		it(`runs 100 mutations per codec (${FUZZ_CODECS.join(", ")}) through the adapter`, async () => {
			const files = python.run<Record<string, string>>(COMPRESSED, FUZZ_CODECS);
			const seeds = FUZZ_CODECS.map((c) => ({
				codec: c,
				bytes: new Uint8Array(Buffer.from(files[c] ?? "", "base64")),
			}));
			await using tmp = await tempDir();
			let k = 0;
			let slowest = 0;
			const codes = new Map<string, number>();
			await fc.assert(
				fc.asyncProperty(fc.nat(seeds.length - 1), edits, async (i, list) => {
					const seed = seeds[i] as (typeof seeds)[number];
					const path = tmp.join(`f${k++}.joblib`);
					await writeFile(path, mutate(seed.bytes, list));
					const t0 = performance.now();
					try {
						await using c = await registry.openContainer(path, {
							format: "pickle",
							adapterOptions: { maxDecompressedBytes: 64 << 20 },
						});
						await readEverything(c);
					} catch (err) {
						if (!isArrayStoreError(err)) throw err;
						codes.set(err.code, (codes.get(err.code) ?? 0) + 1);
					}
					slowest = Math.max(slowest, performance.now() - t0);
				}),
				{ seed: 99, numRuns: 100 * seeds.length },
			);
			expect(slowest).toBeLessThan(PER_RUN_MS);
			// Most mutations of a compressed stream are caught by the codec itself.
			expect(
				(codes.get("MALFORMED") ?? 0) + (codes.get("TRUNCATED") ?? 0),
			).toBeGreaterThan(50 * seeds.length);
		}, 60_000);
	},
);
