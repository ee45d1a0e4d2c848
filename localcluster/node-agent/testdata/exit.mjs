// Test program for the local node (image perennial-testing/exit): writes MESSAGE as its termination message,
// waits SLEEP_MS, exits with EXIT_CODE.
import { writeFileSync } from 'node:fs';

const path = process.env.PERENNIAL_TERMINATION_MESSAGE_PATH;
if (path && process.env.MESSAGE) writeFileSync(path, process.env.MESSAGE);
setTimeout(() => process.exit(Number(process.env.EXIT_CODE ?? 0)), Number(process.env.SLEEP_MS ?? 0));
