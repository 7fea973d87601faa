import { describe, expect, it } from '@jest/globals';
import { readmeCommands } from './readme-commands.ts';

const fence = '```';

describe('readmeCommands', () => {
  it('a sh block is one script; yaml and text blocks are not commands', () => {
    const md = ['# t', `${fence}sh`, 'kubectl get ns   # all', 'for x in a b; do', '  echo "$x"', 'done', fence, `${fence}yaml`, 'a: 1', fence, `${fence}`, 'plain', fence].join('\n');
    expect(readmeCommands(md)).toEqual([{ command: 'kubectl get ns   # all\nfor x in a b; do\n  echo "$x"\ndone', line: 3 }]);
  });

  it('an indented block (in a list item) loses its indentation', () => {
    const md = ['1. Then:', '', `   ${fence}sh`, '   helm uninstall x \\', '     -n y', `   ${fence}`].join('\n');
    expect(readmeCommands(md)).toEqual([{ command: 'helm uninstall x \\\n  -n y', line: 4 }]);
  });

  it('a console block: each `$ ` line a command with its continuations, and the output it shows', () => {
    const md = [`${fence}console`, '$ kubectl apply -f a.yaml', '$ helm install x \\', '    chart', '$ kubectl get rpol', 'NAME  READY', 'p     True', fence].join('\n');
    expect(readmeCommands(md)).toEqual([
      { command: 'kubectl apply -f a.yaml', line: 2 },
      { command: 'helm install x \\\n    chart', line: 3 },
      { command: 'kubectl get rpol', output: 'NAME  READY\np     True', line: 5 },
    ]);
  });
});
