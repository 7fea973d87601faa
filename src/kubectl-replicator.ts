#!/usr/bin/env node
// The kubectl plugin: kubectl runs `kubectl replicator <args>` as `kubectl-replicator <args>`. The same CLI as
// kube-replicator, except that no command prints help: a plugin typed bare must not start an operator.
if (process.argv.length <= 2) process.argv.push('help');
await import('./main.ts');
