/** The benchmark report: JSON (everything) and a Markdown summary. */

const MB = 1e6;
const GIB = 2 ** 30;
/** Targets of the benchmark issue. */
export const TARGETS = {
	peerRatio: 1.0,
	peerRatioAim: 1.5,
	cpRatio: 0.8,
	peakRssBytes: 300 * MB,
	slabSlowdown: 1.5,
};

const f0 = (x) => (x === null || x === undefined ? "–" : x.toFixed(0));
const f1 = (x) => (x === null || x === undefined ? "–" : x.toFixed(1));
const f2 = (x) => (x === null || x === undefined ? "–" : x.toFixed(2));
const mb = (b) => (b === null || b === undefined ? "–" : (b / MB).toFixed(0));
const ok = (cond) => (cond === null ? "–" : cond ? "✓" : "✗");
const size = (b) =>
	b >= GIB ? `${(b / GIB).toFixed(2)} GiB` : `${(b / 2 ** 20).toFixed(1)} MiB`;
/** A value, or "failed (why)" in the first column of a failed tool and "–" in the others. */
const cell = (r, text, first = false) =>
	r?.error ? (first ? `failed: ${short(r.error)}` : "–") : text;
const short = (s) => s.replace(/\s+/g, " ").replace(/\|/g, "\\|").slice(0, 140);

/** @param {any} report */
export function toMarkdown(report) {
	const m = report.machine;
	const py = m.python ?? {};
	const lines = [];
	const libs = Object.entries(m.libraries)
		.map(([k, v]) => `${k} ${v}`)
		.join(", ");
	lines.push(
		"# arraystore benchmarks",
		"",
		`Command: \`${report.command}\`  `,
		`Date: ${m.date}, commit ${m.commit}${m.dirty ? " (+ uncommitted changes in packages/apps)" : ""}  `,
		`Machine: ${m.cores} cores (${m.cpu}), ${size(m.memoryBytes)} RAM, Linux ${m.kernel}; load average ${m.loadBefore ? m.loadBefore[0].toFixed(2) : "?"} at the start, ${m.loadAfter ? m.loadAfter[0].toFixed(2) : "?"} at the end  `,
		`Node ${m.node}; our libraries: ${libs || "–"}  `,
		`Python ${py.python ?? "?"}: numpy ${py.numpy ?? "?"}, h5py ${py.h5py ?? "?"} (HDF5 ${py.hdf5 ?? "?"}), tensorstore ${py.tensorstore ?? "?"}, numcodecs ${py.numcodecs ?? "?"}  `,
		`Data: float32 ${JSON.stringify(report.data.shape)} = ${size(report.data.bytes)}, C order; chunks ${report.layout.chunks.join("×")}, shards ${report.layout.shards.join("×")}; on disk: ${Object.entries(
			report.data.onDisk,
		)
			.map(([k, v]) => `${k} ${size(v)}`)
			.join(", ")}`,
		"",
		`Method: every measured command runs in its own process (python/measure.py): wall time from fork to exit, median of ${report.options.runs} run(s); MB/s = 10^6 bytes of the uncompressed array per second; peak = max over runs of the process's peak resident memory (getrusage RUSAGE_CHILDREN ru_maxrss). Warm page cache: inputs are read once before every run, outputs are written to the page cache without fsync by every tool (cp too), and \`sync\` runs between runs, after which the disks are left to go quiet (2 s without writes, discards or flushes, at most 15 s). Ratios are ours ÷ best peer in throughput (> 1: we are faster). Outputs are read back with numpy/h5py/tensorstore and compared by sha256 (verified). Peak RSS counts file-backed pages a process maps: tools that use numpy.memmap / open_memmap show up to the mapped file sizes (reclaimable page cache, not heap).`,
		"",
	);
	if (report.pairs.length) {
		lines.push(
			"## Conversions",
			"",
			"| pair | ours MB/s | ours peak MB | best peer | peer MB/s | peer peak MB | ours ÷ peer | cp MB/s | ours ÷ cp | speed target | ≤ 300 MB | verified (ours/peer) |",
			"| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | :---: | :---: | :---: |",
		);
		for (const p of report.pairs) {
			const best = p.peers.find((x) => x.name === p.bestPeer) ?? p.peers[0];
			const speedOk = p.uncompressed
				? p.ratioCp === null
					? null
					: p.ratioCp >= TARGETS.cpRatio
				: p.ratio === null
					? null
					: p.ratio >= TARGETS.peerRatio;
			const target = p.uncompressed
				? `≥ ${TARGETS.cpRatio}× cp`
				: `≥ ${TARGETS.peerRatio}× peer`;
			lines.push(
				`| ${p.title} | ${cell(p.ours, f0(p.ours.mbps), true)} | ${cell(p.ours, mb(p.ours.peakRssBytes))} | ${best?.name ?? "–"} | ${cell(best, f0(best?.mbps), true)} | ${cell(best, mb(best?.peakRssBytes))} | ${f2(p.ratio)} | ${cell(p.cp, f0(p.cp?.mbps), true)} | ${f2(p.ratioCp)} | ${target} ${ok(speedOk)} | ${ok(p.ours.peakRssBytes === null ? null : p.ours.peakRssBytes <= TARGETS.peakRssBytes)} | ${ok(p.ours.verified)} / ${ok(best?.verified ?? null)} |`,
			);
		}
		lines.push(
			"",
			"All tools (median seconds, MB/s, peak MB, CPU cores busy = (user + sys) / wall, output size and layout as the Python libraries read it):",
			"",
			"| pair | tool | s | MB/s | peak MB | CPU cores | output | layout | verified |",
			"| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | :---: |",
		);
		for (const p of report.pairs)
			for (const r of [p.ours, ...p.peers, ...(p.cp ? [p.cp] : [])])
				lines.push(
					`| ${p.id} | ${r.tool === "peer" ? `peer: ${r.name}` : r.tool === "cp" ? r.name : "ours"} | ${cell(r, f2(r.seconds), true)} | ${cell(r, f0(r.mbps))} | ${cell(r, mb(r.peakRssBytes))} | ${cell(r, f2(r.cpuCores))} | ${r.outputBytes ? size(r.outputBytes) : "–"} | ${r.layout ?? "–"} | ${ok(r.verified)} |`,
				);
		lines.push("");
	}
	if (report.slabs.length) {
		const s = report.slabInfo;
		lines.push(
			`## Random slab reads (${s.count} slabs of ${s.slab.join("×")} float32, one after the other)`,
			"",
			`Time of the ${s.count} read calls only (after open and 200 untimed warm-up slabs elsewhere), median of ${report.options.runs} run(s); ours ÷ peer is the speed ratio (target ≥ ${(1 / TARGETS.slabSlowdown).toFixed(2)}, i.e. within ${TARGETS.slabSlowdown}× of the peer).`,
			"",
			"| format | ours s | ours ms/slab | peer | peer s | ours ÷ peer | within 1.5× | ours peak MB | peer peak MB | same data |",
			"| --- | ---: | ---: | --- | ---: | ---: | :---: | ---: | ---: | :---: |",
		);
		for (const x of report.slabs)
			lines.push(
				`| ${x.title} | ${cell(x.ours, f2(x.ours.loopSeconds), true)} | ${cell(x.ours, f2(x.ours.loopSeconds === null ? null : (x.ours.loopSeconds * 1000) / s.count))} | ${x.peer.name} | ${cell(x.peer, f2(x.peer.loopSeconds), true)} | ${f2(x.ratio)} | ${ok(x.ratio === null ? null : x.ratio >= 1 / TARGETS.slabSlowdown)} | ${mb(x.ours.peakRssBytes)} | ${mb(x.peer.peakRssBytes)} | ${ok(x.ours.error || x.peer.error ? null : x.checksumsMatch)} |`,
			);
		lines.push("");
	}
	if (report.scaling.length) {
		lines.push(
			"## Scaling (our converter)",
			"",
			"| pair | size | s | MB/s | peak MB | ≤ 300 MB | cp MB/s | ours ÷ cp | verified |",
			"| --- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | :---: |",
		);
		for (const x of report.scaling)
			lines.push(
				`| ${x.id} | ${size(x.arrayBytes)} | ${cell(x.ours, f1(x.ours.seconds), true)} | ${cell(x.ours, f0(x.ours.mbps))} | ${cell(x.ours, mb(x.ours.peakRssBytes))} | ${ok(x.ours.peakRssBytes === null ? null : x.ours.peakRssBytes <= TARGETS.peakRssBytes)} | ${x.uncompressed && x.cp ? cell(x.cp, f0(x.cp.mbps)) : "–"} | ${x.uncompressed ? f2(x.ratioCp) : "–"} | ${ok(x.ours.verified)} |`,
			);
		lines.push(
			"",
			"Writes of more than about 3.5 GiB reach the kernel's dirty-page limit, so the larger size also measures writeback.",
			"",
		);
	}
	if (report.profile) {
		const p = report.profile;
		lines.push(`## Profile: ours on ${p.pair}`, "");
		if (p.error) lines.push(`failed: ${short(p.error)}`, "");
		else {
			lines.push(
				`One run under \`node --cpu-prof\`: wall ${f2(p.wall)} s, CPU ${f2(p.cpuSeconds)} s, peak ${mb(p.peakRssBytes)} MB. Self time:`,
				"",
			);
			for (const t of p.threads) {
				lines.push(
					`**${t.thread ?? t.file}** (${f0(t.sampledMs)} ms sampled)`,
					"",
					"| by package | ms | share |",
					"| --- | ---: | ---: |",
					...t.categories.map(
						(c) =>
							`| ${c.name} | ${f0(c.ms)} | ${(c.share * 100).toFixed(1)}% |`,
					),
					"",
					"| top functions | ms | share |",
					"| --- | ---: | ---: |",
					...t.functions
						.slice(0, 12)
						.map(
							(c) =>
								`| \`${short(c.name)}\` | ${f0(c.ms)} | ${(c.share * 100).toFixed(1)}% |`,
						),
					"",
				);
			}
		}
	}
	if (report.notes.length)
		lines.push("## Notes", "", ...report.notes.map((n) => `- ${n}`), "");
	return `${lines.join("\n")}\n`;
}
