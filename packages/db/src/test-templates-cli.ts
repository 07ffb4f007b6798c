// Prints the test databases' info as JSON; testing.ts runs it when no vitest global setup did.
import { prepareTestTemplates } from './test-templates.ts';

process.stdout.write(JSON.stringify(await prepareTestTemplates()));
