/**
 * Node probes for detection: the first 4 KiB of a file, HDF5 user-block signatures, directory
 * entries (Zarr marker files), the raw sidecar, and "file.h5#/inner/path" splitting.
 */
import { open, readdir, stat } from "node:fs/promises";
import type { Probe } from "../driver.js";
import { fromNodeError } from "../errors.js";
import { extensionOf, type ProbeResult } from "../registry.js";

const HEAD_BYTES = 4096;

async function exists(path: string): Promise<boolean> {
	try {
		await stat(path);
		return true;
	} catch {
		return false;
	}
}

/** Reads the probe of an existing path, or null when nothing is there. */
export async function readProbe(path: string): Promise<Probe | null> {
	let st: Awaited<ReturnType<typeof stat>>;
	try {
		st = await stat(path);
	} catch (err) {
		if (
			(err as { code?: string }).code === "ENOENT" ||
			(err as { code?: string }).code === "ENOTDIR"
		)
			return null;
		throw fromNodeError(err, { target: path });
	}
	const extension = extensionOf(path);
	if (st.isDirectory()) {
		const entries = (await readdir(path)).sort();
		return {
			path,
			extension,
			size: 0,
			isDirectory: true,
			head: new Uint8Array(0),
			entries,
			hasSidecar: false,
			signatures: new Map(),
		};
	}
	const size = Number(st.size);
	const fh = await open(path, "r").catch((err: unknown) => {
		throw fromNodeError(err, { target: path });
	});
	try {
		const head = new Uint8Array(Math.min(HEAD_BYTES, size));
		await fh.read(head, 0, head.length, 0);
		// HDF5 may start after a user block of 512, 1024, 2048, … bytes.
		const signatures = new Map<number, Uint8Array>();
		for (let at = 512; at + 8 <= size && at <= 2 ** 40; at *= 2) {
			const sig = new Uint8Array(8);
			await fh.read(sig, 0, 8, at);
			signatures.set(at, sig);
		}
		return {
			path,
			extension,
			size,
			isDirectory: false,
			head,
			entries: [],
			hasSidecar: await exists(`${path}.json`),
			signatures,
		};
	} finally {
		await fh.close();
	}
}

/**
 * Splits "file.h5#/grp/x" at the last `#` whose left part exists, and probes the file.
 * A target that exists as given is never split.
 */
export async function nodeProbeReader(target: string): Promise<ProbeResult> {
	const whole = await readProbe(target);
	if (whole) return { file: target, inner: null, probe: whole };
	for (
		let i = target.lastIndexOf("#");
		i > 0;
		i = target.lastIndexOf("#", i - 1)
	) {
		const left = target.slice(0, i);
		const probe = await readProbe(left);
		if (probe) return { file: left, inner: target.slice(i + 1), probe };
	}
	return { file: target, inner: null, probe: null };
}
