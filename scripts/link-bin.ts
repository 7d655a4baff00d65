// Puts the repository's own `sde-operator` command in node_modules/.bin, so `npx sde-operator …`
// works in a clone as the README says. npm links the bins of dependencies only, never the
// project's own; `npm install` and `npm ci` run this as the `prepare` script.
//
// The command is a small shell script rather than a link to cli/main.ts: it runs the project's
// Node 24 (node_modules/.bin/node) by path, so it works when called without npm's PATH too, and
// needs no executable bit on a checked-out file.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';

const bin = new URL('../node_modules/.bin/', import.meta.url);
const script = `#!/bin/sh
# The sde-operator command of this clone, written by scripts/link-bin.ts (npm's prepare script).
here=$(dirname "$(readlink -f "$0")")
node="$here/node"
[ -x "$node" ] || node=node
exec "$node" "$here/../../cli/main.ts" "$@"
`;
mkdirSync(bin, { recursive: true });
const command = new URL('sde-operator', bin);
writeFileSync(command, script);
chmodSync(command, 0o755);
