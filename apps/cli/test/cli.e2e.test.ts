import { spawnSync } from "node:child_process";
import {
	closeSync,
	constants,
	existsSync,
	openSync,
	readFileSync,
	writeFileSync,
} from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
	FORMATS_DIR,
	PICKLE_DIR,
	pickleManifest,
	python,
	REPO_ROOT,
	sha256,
	skipNote,
	tempDir,
} from "@arraystore/conformance";
import { describe, expect, it } from "vitest";
import { builtinRegistry } from "../src/adapters.js";
import { convert, events, pool } from "./e2e-helpers.js";

const VERSION = (
	JSON.parse(
		readFileSync(new URL("../package.json", import.meta.url), "utf8"),
	) as { version: string }
).version;
const SAMPLE = join(REPO_ROOT, "apps/cli/samples/sample.h5");
const registry = builtinRegistry();

describe("cli e2e: entry points", () => {
	it("prints our version from the bin and through `npx convert` at the repository root", async () => {
		const direct = await convert(["--version"]);
		expect(direct).toMatchObject({
			code: 0,
			stdout: `arraystore convert ${VERSION}\n`,
		});
		// --no-install: never fall through to the unrelated npm package named "convert".
		const npx = await convert(["--version"], {
			cwd: REPO_ROOT,
			command: ["npx", "--no-install", "convert"],
		});
		expect(npx.stdout).toBe(`arraystore convert ${VERSION}\n`);
		expect(npx.code).toBe(0);
	});

	it("prints help listing every option", async () => {
		const r = await convert(["--help"]);
		expect(r.code).toBe(0);
		for (const flag of [
			"--from",
			"--to",
			"--dataset",
			"--name",
			"--dtype",
			"--shape",
			"--offset",
			"--order",
			"--chunks",
			"--codec",
			"--zarr-version",
			"--shards",
			"--unsafe-cast",
			"--max-memory",
			"--jobs",
			"--overwrite",
			"--resume",
			"--verify",
			"--fsync",
			"--page-cache",
			"--dry-run",
			"--json",
			"--quiet",
			"--debug",
			"--follow-external-links",
			"--version",
			"--help",
		])
			expect(r.stdout, flag).toContain(flag);
	});

	it("runs the README quick start: the sample HDF5 file into Zarr v3, whole tree", async () => {
		await using tmp = await tempDir();
		const out = tmp.join("out.zarr");
		const r = await convert(["apps/cli/samples/sample.h5", out], {
			cwd: REPO_ROOT,
			command: ["npx", "--no-install", "convert"],
		});
		expect(r.code, r.stderr).toBe(0);
		expect(r.stdout).toMatch(/^converted 7 arrays .* → /);
		await using src = await registry.openContainer(SAMPLE);
		await using dst = await registry.openContainer(out);
		const arrays = (await src.list("", { recursive: true })).filter(
			(e) => e.kind !== "group",
		);
		for (const e of arrays) {
			const a = await src.openArray(e.path);
			const b = await dst.openArray(e.path.replace(/^\//, ""));
			expect(sha256((await b.read()).bytes), e.path).toBe(
				sha256((await a.read()).bytes),
			);
			await a.close();
			await b.close();
		}
		if (python.has("h5py", "tensorstore")) {
			const same = python.run<boolean[]>(
				`import h5py, numpy as np, tensorstore as ts
f = h5py.File(INPUT[0])
out = []
for p in ["measurements/temperature", "measurements/rain_mm", "measurements/dry_day", "measurements/pressure_pa", "camera/frames", "camera/calibration", "latest"]:
    z = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": INPUT[1] + "/" + p}}).result().read().result()
    out.append(bool(np.array_equal(z, f[p][()])) and z.dtype == f[p].dtype)
print(json.dumps(out))`,
				[SAMPLE, out],
			);
			expect(same).toEqual([true, true, true, true, true, true, true]);
		} else
			skipNote(
				"cli e2e: tensorstore check of the quick start",
				python.missing("h5py", "tensorstore"),
			);
	});
});

describe("cli e2e: info, ls and --json", () => {
	it("lists the tree with dtype, shape, chunks and codecs", async () => {
		const ls = await convert(["ls", SAMPLE]);
		expect(ls.code).toBe(0);
		expect(ls.stdout).toMatch(
			/\/measurements\/temperature\s+array\s+<f4 \[365, 24\]\s+chunks \[73, 24\]\s+shuffle.*gzip/,
		);
		expect(ls.stdout).toMatch(
			/\/latest\s+soft link → \/measurements\/temperature/,
		);
		const json = await convert(["ls", SAMPLE, "--json"]);
		const doc = JSON.parse(json.stdout) as {
			format: string;
			nodes: { path: string; kind: string; dtype?: string; shape?: number[] }[];
		};
		expect(doc.format).toBe("hdf5");
		expect(doc.nodes.find((n) => n.path === "/camera/frames")).toMatchObject({
			kind: "array",
			dtype: "<u2",
			shape: [6, 48, 64],
		});
	});

	it("shows attributes with info", async () => {
		const info = await convert(["info", SAMPLE]);
		expect(info.code).toBe(0);
		expect(info.stdout).toContain('@units = "degC"');
		const json = JSON.parse(
			(await convert(["info", `${SAMPLE}#/measurements/temperature`, "--json"]))
				.stdout,
		) as {
			nodes: {
				path: string;
				attributes: Record<string, unknown>;
				fillValue: unknown;
			}[];
		};
		expect(json.nodes).toHaveLength(1);
		expect(json.nodes[0]?.attributes).toEqual({
			long_name: "air temperature",
			units: "degC",
		});
		expect(json.nodes[0]?.fillValue).toBe("NaN");
	});

	it("prints one JSON object per line: plan, arrays, progress, done", async () => {
		await using tmp = await tempDir();
		const r = await convert([SAMPLE, tmp.join("o.zarr"), "--json", "--verify"]);
		expect(r.code, r.stderr).toBe(0);
		const evs = events(r.stdout);
		expect(evs[0]).toMatchObject({
			event: "plan",
			sourceFormat: "hdf5",
			targetFormat: "zarr",
		});
		expect(evs.filter((e) => e.event === "array")).toHaveLength(7);
		expect(
			evs.some((e) => e.event === "progress" && e.phase === "verify"),
		).toBe(true);
		const done = evs.at(-1) as {
			event: string;
			outputs: {
				arrays: { blocksVerified: number; blocksWritten: number }[];
			}[];
			peakRss: number;
		};
		expect(done.event).toBe("done");
		for (const a of done.outputs[0]?.arrays ?? [])
			expect(a.blocksVerified).toBe(a.blocksWritten);
		expect(done.peakRss).toBeGreaterThan(0);
	});
});

// Bytes of `file` in the page cache (util-linux fincore), or null without fincore.
function residentBytes(file: string): number | null {
	const r = spawnSync(
		"fincore",
		["--bytes", "--noheadings", "--output", "RES", file],
		{
			encoding: "utf8",
		},
	);
	return r.status === 0 ? Number(r.stdout.trim()) : null;
}

// Whether `dir`'s file system takes O_DIRECT (tmpfs on old kernels and some FUSE ones do not).
function takesDirect(dir: string): boolean {
	const probe = join(dir, "probe");
	writeFileSync(probe, "");
	try {
		closeSync(openSync(probe, constants.O_WRONLY | constants.O_DIRECT));
		return true;
	} catch {
		return false;
	}
}

describe("cli e2e: output writes", () => {
	it("writes npy outputs past the page cache by default and through it with --page-cache, the same bytes", async () => {
		await using tmp = await tempDir();
		// 24 MiB of float32 as Zarr v3 in 4 MiB chunks: the copy's blocks are the chunks, long
		// enough to be written directly.
		const shape = [1536, 4096];
		const values = new Float32Array(1536 * 4096).map(
			(_, i) => (i % 9973) * 0.5 - 7,
		);
		const bytes = new Uint8Array(values.buffer);
		const dat = tmp.join("a.dat");
		await writeFile(dat, bytes);
		const zarr = tmp.join("a.zarr");
		const made = await convert([
			dat,
			zarr,
			"--dtype",
			"<f4",
			"--shape",
			shape.join(","),
			"--chunks",
			"256,4096",
			"--codec",
			"zstd:1",
			"--quiet",
		]);
		expect(made.code, made.stderr).toBe(0);
		const direct = tmp.join("direct.npy");
		const cached = tmp.join("cached.npy");
		for (const [out, flags] of [
			[direct, []],
			[cached, ["--page-cache"]],
		] as const) {
			const r = await convert([zarr, out, "--quiet", ...flags]);
			expect(r.code, r.stderr).toBe(0);
		}
		const resident = [residentBytes(direct), residentBytes(cached)];
		const a = readFileSync(direct);
		const b = readFileSync(cached);
		expect(a.length).toBe(b.length);
		expect(Buffer.compare(a, b)).toBe(0);
		expect(Buffer.compare(a.subarray(a.length - bytes.length), bytes)).toBe(0);
		if (resident[0] === null || resident[1] === null)
			skipNote(
				"cli e2e: page-cache residency",
				"fincore (util-linux) is missing",
			);
		else if (!takesDirect(tmp.path))
			skipNote("cli e2e: page-cache residency", `${tmp.path} refuses O_DIRECT`);
		else {
			// Only the unaligned head and tail of each block went through the page cache.
			expect(resident[0]).toBeLessThan(1024 * 1024);
			expect(resident[1]).toBeGreaterThan(bytes.length / 2);
		}
	});
});

describe("cli e2e: errors", () => {
	it("gives one line and exit code 2 for wrong flags", async () => {
		const cases = [
			["--frobnicate"],
			[SAMPLE],
			[SAMPLE, "o.zarr", "--codec", "zstd:fast"],
			[SAMPLE, "o.zarr", "--max-memory", "-5"],
			[SAMPLE, "o.zarr", "--zarr-version", "5"],
			[SAMPLE, "o.zarr", "--shape", "3,4"],
			[SAMPLE, "o.zarr", "--order", "X"],
			[SAMPLE, "o.zarr", "--jobs"],
			["info"],
		];
		const results = await pool(
			2,
			cases.map((args) => () => convert(args)),
		);
		results.forEach((r, i) => {
			expect(r.code, cases[i]?.join(" ")).toBe(2);
			expect(r.stderr.trim().split("\n"), cases[i]?.join(" ")).toHaveLength(1);
			expect(r.stderr).not.toMatch(/\n\s+at /);
		});
	});

	it("gives one line with the error code and exit code 1 for malformed inputs, and writes nothing", async () => {
		await using tmp = await tempDir();
		const manifest = pickleManifest<{
			files: { path: string; expected: { result: string; error?: string } }[];
		}>();
		const cases: { src: string; code: string }[] = manifest.files
			.filter((f) => f.expected.result === "error")
			.map((f) => ({
				src: join(PICKLE_DIR, f.path),
				code: String(f.expected.error).toUpperCase(),
			}));
		expect(cases.length).toBeGreaterThanOrEqual(15);
		const npy = readFileSync(join(FORMATS_DIR, "npy/dtype_float64.npy"));
		await writeFile(tmp.join("truncated.npy"), npy.subarray(0, 100));
		await writeFile(tmp.join("empty.npy"), new Uint8Array(0));
		await writeFile(tmp.join("garbage.h5"), new Uint8Array(4096).fill(7));
		await writeFile(tmp.join("nolayout.dat"), new Uint8Array(64));
		await mkdir(tmp.join("broken.zarr"));
		await writeFile(tmp.join("broken.zarr/zarr.json"), "{ not json");
		await mkdir(tmp.join("plain-dir"));
		cases.push(
			{ src: tmp.join("truncated.npy"), code: "TRUNCATED" },
			{ src: tmp.join("empty.npy"), code: "TRUNCATED" },
			{ src: tmp.join("garbage.h5"), code: "MALFORMED" },
			{ src: tmp.join("nolayout.dat"), code: "LAYOUT_REQUIRED" },
			{ src: tmp.join("broken.zarr"), code: "MALFORMED" },
			{ src: tmp.join("plain-dir"), code: "NO_ADAPTER" },
			{ src: tmp.join("missing.h5"), code: "NOT_FOUND" },
		);
		const results = await pool(
			2,
			cases.map((c, i) => () => convert([c.src, tmp.join(`out${i}.zarr`)])),
		);
		results.forEach((r, i) => {
			const c = cases[i] as { src: string; code: string };
			expect(r.code, `${c.src}: ${r.stderr}`).toBe(1);
			const lines = r.stderr.trim().split("\n");
			expect(lines, c.src).toHaveLength(1);
			expect(lines[0], c.src).toMatch(new RegExp(`^convert: ${c.code}: `));
			expect(existsSync(tmp.join(`out${i}.zarr`)), c.src).toBe(false);
		});
	});

	it("stops cleanly on SIGINT (exit 3, partial output kept) and the same command continues", async () => {
		await using tmp = await tempDir();
		const npy = tmp.join("big.npy");
		const store = await registry.create(npy, {
			dtype: "<f8",
			shape: [20000, 256],
		});
		const data = new Float64Array(20000 * 256).map((_, i) => Math.cos(i));
		await store.write([], data);
		await store.close();
		const args = [
			npy,
			tmp.join("o.zarr"),
			"--chunks",
			"200,256",
			"--max-memory",
			"48MiB",
			"--json",
			"--jobs",
			"1",
		];
		const env = { ARRAYSTORE_CHECKPOINT_MS: "0" };
		let sent = false;
		const first = await convert(args, {
			env,
			onLine: (line, child) => {
				if (!sent && line.includes('"event":"progress"')) {
					sent = true;
					child.kill("SIGINT");
				}
			},
		});
		expect(first.code, first.stderr).toBe(3);
		expect(first.stderr).toMatch(/interrupted/);
		expect(existsSync(tmp.join("o.zarr"))).toBe(false);
		expect(existsSync(tmp.join("o.zarr.partial.journal"))).toBe(true);
		const second = await convert(args, { env });
		expect(second.code, second.stderr).toBe(0);
		const done = events(second.stdout).at(-1) as {
			outputs: { resumedBlocks: number }[];
		};
		expect(done.outputs[0]?.resumedBlocks).toBeGreaterThan(0);
		await using out = await registry.open(tmp.join("o.zarr"));
		expect(sha256((await out.read()).bytes)).toBe(
			sha256(new Uint8Array(data.buffer)),
		);
	});
});
