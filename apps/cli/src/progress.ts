/**
 * Progress output: a cli-progress bar on a TTY (bytes, rate, ETA, current array), plain log
 * lines otherwise, one JSON object per line with `--json`, nothing with `--quiet`. Bars and
 * logs go to stderr; results (summaries, plans, JSON) go to stdout.
 */
import type { Writable } from "node:stream";
import { type CopyProgress, formatBytes } from "@arraystore/core";
import type { SingleBar } from "cli-progress";

/** How progress is shown. */
export type ProgressMode = "bar" | "log" | "json" | "quiet";

/** Where a command writes. */
export interface Streams {
	readonly stdout: Writable;
	readonly stderr: Writable;
}

// Plain log lines at most this often (and at every 10 %).
const LOG_INTERVAL_MS = 2000;
// JSON progress events at most this often.
const JSON_INTERVAL_MS = 250;

/** Reports a conversion's progress. */
export class Reporter {
	readonly #mode: ProgressMode;
	readonly #io: Streams;
	#bar: SingleBar | undefined;
	#barTotal = 0;
	#start = Date.now();
	#last = 0;
	#lastTenth = -1;
	#verify = false;

	constructor(mode: ProgressMode, io: Streams) {
		this.#mode = mode;
		this.#io = io;
	}

	get mode(): ProgressMode {
		return this.#mode;
	}

	/** A JSON event (only in json mode). */
	event(record: Readonly<Record<string, unknown>>): void {
		if (this.#mode === "json") this.#io.stdout.write(`${jsonLine(record)}\n`);
	}

	/** A plain informational line (stderr; not in json or quiet mode). */
	info(line: string): void {
		if (this.#mode === "log" || this.#mode === "bar") this.#log(line);
	}

	/** A warning (stderr in text modes, a JSON event in json mode). */
	warn(line: string): void {
		if (this.#mode === "json") this.event({ event: "warning", message: line });
		else if (this.#mode !== "quiet") this.#log(`warning: ${line}`);
	}

	/** Starts timing a copy of `total` bytes (read twice with `verify`). */
	async begin(total: number, verify = false): Promise<void> {
		this.#start = Date.now();
		this.#verify = verify;
		this.#barTotal = verify ? 2 * total : total;
		if (this.#mode !== "bar") return;
		const { SingleBar, Presets } = await import("cli-progress");
		this.#bar = new SingleBar(
			{
				format:
					"{phase} {array} |{bar}| {percentage}% {done}/{size} {rate} ETA {eta_formatted}",
				hideCursor: true,
				stream: this.#io.stderr,
				etaBuffer: 50,
				fps: 5,
			},
			Presets.shades_classic,
		);
		this.#bar.start(Math.max(1, total), 0, this.#payload("", 0));
	}

	/** One engine progress event. */
	progress(p: CopyProgress): void {
		const now = Date.now();
		const finished = p.arrayBytesDone >= p.arrayBytesTotal;
		switch (this.#mode) {
			case "bar": {
				const done = this.#overall(p);
				this.#bar?.update(
					Math.min(done, this.#barTotal),
					this.#payload(p.array, done, p.phase),
				);
				return;
			}
			case "json":
				if (!finished && now - this.#last < JSON_INTERVAL_MS) return;
				this.#last = now;
				this.event({
					event: "progress",
					phase: p.phase,
					array: p.array,
					arrayIndex: p.arrayIndex,
					arrayCount: p.arrayCount,
					blocksDone: p.blocksDone,
					blocksTotal: p.blocksTotal,
					bytesDone: p.bytesDone,
					bytesTotal: p.bytesTotal,
				});
				return;
			case "log": {
				const done = this.#overall(p);
				const tenth =
					this.#barTotal > 0 ? Math.floor((10 * done) / this.#barTotal) : 10;
				if (tenth === this.#lastTenth && now - this.#last < LOG_INTERVAL_MS)
					return;
				this.#lastTenth = tenth;
				this.#last = now;
				const pct =
					this.#barTotal > 0 ? Math.floor((100 * done) / this.#barTotal) : 100;
				this.#log(
					`${pct}% (${formatBytes(done)} of ${formatBytes(this.#barTotal)}, ${rate(done, now - this.#start)}) — ${p.phase === "verify" ? "verifying" : "copying"} ${p.array || "array"} (${p.arrayIndex + 1}/${p.arrayCount})`,
				);
				return;
			}
			default:
		}
	}

	/** Stops the bar (before printing results). */
	end(): void {
		if (this.#bar) {
			this.#bar.stop();
			this.#bar = undefined;
		}
	}

	// --- internal ---

	// Bytes handled so far; with verify each array counts twice (copy, then read back).
	#overall(p: CopyProgress): number {
		if (!this.#verify) return p.bytesDone;
		const before = p.bytesDone - p.arrayBytesDone;
		return (
			2 * before +
			(p.phase === "verify" ? p.arrayBytesTotal : 0) +
			p.arrayBytesDone
		);
	}

	#payload(
		array: string,
		done: number,
		phase: CopyProgress["phase"] = "copy",
	): Record<string, string> {
		const shown =
			array === ""
				? "array"
				: array.length > 30
					? `…${array.slice(-29)}`
					: array;
		return {
			phase: phase === "verify" ? "verify" : "copy",
			array: shown,
			done: formatBytes(done),
			size: formatBytes(this.#barTotal),
			rate: rate(done, Date.now() - this.#start),
		};
	}

	#log(line: string): void {
		if (this.#bar) {
			// Print above the bar without tearing it.
			this.#io.stderr.write("\r\x1b[K");
			this.#io.stderr.write(`${line}\n`);
			this.#bar.render();
			return;
		}
		this.#io.stderr.write(`${line}\n`);
	}
}

/** JSON for one line: bigints as strings. */
export function jsonLine(value: unknown): string {
	return JSON.stringify(value, (_k, v: unknown) =>
		typeof v === "bigint" ? v.toString() : v,
	);
}

function rate(bytes: number, ms: number): string {
	if (ms <= 0) return "—/s";
	return `${formatBytes(Math.round((bytes * 1000) / ms))}/s`;
}
