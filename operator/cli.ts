#!/usr/bin/env node
// The `sde-operator` command line. Each subcommand lives beside the concern it drives and is
// registered here; this file only wires them together and turns failures into exit codes.
import { Command } from 'commander';
import { crdsCommand, validateCommand } from '../api/cli.ts';
import { renderCommand } from '../constructs/cli.ts';
import { devclusterCommand } from '../devcluster/cli.ts';
import { demoCommand } from './demo.ts';
import { runCommand } from './run.ts';

const program = new Command('sde-operator')
  .description('SDE Enclave Operator: secure, GPU-backed research enclaves for NHS Secure Data Environments')
  .showHelpAfterError();

program.addCommand(crdsCommand());
program.addCommand(validateCommand());
program.addCommand(renderCommand());

program.addCommand(devclusterCommand());
program.addCommand(runCommand());
program.addCommand(demoCommand());

await program.parseAsync(process.argv);
