#!/usr/bin/env node
// The `sde-operator` command line: the one composition root. The product's commands are wired
// here; the development tools (the local Kubernetes and the demo on it) are loaded only when asked
// for, so nothing of them is in the production bundle the image runs.
import { Command } from 'commander';
import { crdsCommand, validateCommand } from './api-commands.ts';
import { renderCommand } from './render.ts';
import { runCommand } from './run.ts';

/** The development tools: their modules are loaded only when their command runs. */
const DEVELOPMENT_TOOLS: Record<string, { description: string; load(): Promise<Command> }> = {
  devcluster: {
    description: 'run a local in-memory Kubernetes API server with simulated DGX A100 and CPU nodes (for development and tests, not production)',
    load: async () => (await import('../devcluster/cli.ts')).devclusterCommand(),
  },
  demo: {
    description: 'a whole site on this machine: the local Kubernetes, the operator and the examples (what `npm start` runs)',
    load: async () => (await import('./demo.ts')).demoCommand(),
  },
};

const program = new Command('sde-operator')
  .description('SDE Enclave Operator: secure, GPU-backed research enclaves for NHS Secure Data Environments')
  .showHelpAfterError();

program.addCommand(crdsCommand());
program.addCommand(validateCommand());
program.addCommand(renderCommand());
program.addCommand(runCommand());

const asked = process.argv[2];
for (const [name, tool] of Object.entries(DEVELOPMENT_TOOLS)) {
  if (name === asked) {
    try {
      program.addCommand(await tool.load());
    } catch (error) {
      // The image's bundle leaves the development tools out (scripts/build.ts).
      console.error(`sde-operator: \`${name}\` is a development tool that this build does not include (${(error as Error).message}); run it from the sources: npx sde-operator ${name}`);
      process.exit(1);
    }
  } else {
    // Listed in --help without loading it.
    program.command(name).description(tool.description).allowUnknownOption().helpOption(false);
  }
}

await program.parseAsync(process.argv);
