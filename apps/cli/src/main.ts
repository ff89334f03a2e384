/**
 * The `convert` executable (bin/convert.mjs imports this file): wires stdio, the environment
 * and Ctrl-C to {@link runCli}. The first SIGINT (or SIGTERM) stops cleanly after the blocks in
 * flight, leaving a resumable partial output; a second one quits at once.
 */
import { runCli } from "./cli.js";

const controller = new AbortController();
let interrupts = 0;
const interrupt = (signal: NodeJS.Signals) => {
	interrupts++;
	if (interrupts > 1) process.exit(130);
	process.stderr.write(
		`\nconvert: ${signal}: stopping after the blocks in flight (again to quit at once)\n`,
	);
	controller.abort();
};
process.on("SIGINT", interrupt);
process.on("SIGTERM", interrupt);

const code = await runCli(process.argv.slice(2), {
	stdout: process.stdout,
	stderr: process.stderr,
	isTTY: process.stderr.isTTY === true,
	env: process.env,
	signal: controller.signal,
});
// Worker threads of codec pools must not keep a finished command alive.
await new Promise<void>((resolve) => process.stdout.write("", () => resolve()));
process.exit(code);
