import dotenv from 'dotenv';
import { runCli } from './cli/program.js';
import { processIo } from './cli/cli-io.js';

// An optional .env in the working directory; real environment variables win over it.
dotenv.config({ quiet: true });

const code = await runCli(process.argv.slice(2), processIo());
if (code !== 0) process.exitCode = code;
