// The `switchyard` command run from source (tsx) for tests, exactly as bin/switchyard.js runs the compiled one.
import { runCli } from '../../src/cli/main.js';

runCli(process.argv);
