// The command blocks of a Markdown document, in order, as a reader would run them: a ```sh (or bash, shell) block
// is one script; in a ```console block each `$ ` line is a command (with its `\` continuation lines) and the lines
// up to the next `$ ` are the output it shows. Other blocks (yaml, text, …) are not commands.
export interface ReadmeCommand {
  /** The script or command, as written (comments included: bash reads them). */
  command: string;
  /** For a console command, the output the document shows (undefined when it shows none). */
  output?: string;
  /** 1-based line of the block's (or the `$ ` line's) first line. */
  line: number;
}

const scriptLanguages = new Set(['sh', 'bash', 'shell']);

export function readmeCommands(markdown: string): ReadmeCommand[] {
  const lines = markdown.split('\n');
  const out: ReadmeCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const lang = open[2]!;
    const body: { text: string; line: number }[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) body.push({ text: lines[j]!.slice(Math.min(indent, lines[j]!.search(/\S|$/))), line: j + 1 });
    if (scriptLanguages.has(lang) && body.some((b) => b.text.trim())) out.push({ command: body.map((b) => b.text).join('\n').trim(), line: i + 2 });
    if (lang === 'console') out.push(...consoleCommands(body));
    i = j;
  }
  return out;
}

function consoleCommands(body: { text: string; line: number }[]): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  let current: { command: string[]; output: string[]; line: number } | undefined;
  let continued = false;
  const flush = () => {
    if (current) out.push({ command: current.command.join('\n'), line: current.line, ...(current.output.length ? { output: current.output.join('\n') } : {}) });
  };
  for (const { text, line } of body) {
    if (continued) {
      current!.command.push(text);
    } else if (text.startsWith('$ ')) {
      flush();
      current = { command: [text.slice(2)], output: [], line };
    } else if (current && text.trim()) {
      current.output.push(text);
    }
    continued = /\\$/.test(text) && (continued || text.startsWith('$ '));
  }
  flush();
  return out;
}
