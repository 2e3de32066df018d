// Loaded on demand: `kanban completion SHELL`.
import type { Command, Option } from 'commander';
import type { Shell } from './commands/completion.js';

/**
 * Shell completion scripts, generated from the commander tree itself (every command, subcommand and
 * option, with their descriptions and choices), so they cannot drift from the CLI. Each script walks
 * the words typed so far the same way: an option that takes a value skips the next word, a word that
 * names a subcommand of the path so far extends it; then it offers the path's subcommands (or its
 * argument's choices), its options and the global ones, or an option's choices or files.
 */


interface Entry {
  name: string;
  description: string;
}

interface OptionEntry {
  /** `--long` and `-s`, as typed. */
  flags: string[];
  description: string;
  /** What its value is, if it takes one (`<path>`: a file). */
  value: 'none' | 'file' | 'text';
  choices: string[];
}

interface Node {
  /** Subcommand names from the top, space separated; '' for kanban itself. */
  path: string;
  commands: Entry[];
  options: OptionEntry[];
  /** Choices of its first positional argument, if commander knows them. */
  argChoices: string[];
}

function optionEntry(option: Option): OptionEntry {
  const flags = [option.long, option.short].filter((f): f is string => typeof f === 'string');
  const value = !option.required ? 'none' : /<(path|file)>/.test(option.flags) ? 'file' : 'text';
  return { flags, description: option.description, value, choices: option.argChoices ?? [] };
}

/** Every command of the tree, depth first, each with its own options (kanban's are the global ones). */
function walk(command: Command, path: string, nodes: Node[] = []): Node[] {
  const help = command.createHelp();
  const children = help.visibleCommands(command);
  nodes.push({
    path,
    commands: children.map((c) => ({ name: c.name(), description: c.description() })),
    options: help.visibleOptions(command).map(optionEntry),
    argChoices: command.registeredArguments[0]?.argChoices ?? [],
  });
  for (const child of children) walk(child, path === '' ? child.name() : `${path} ${child.name()}`, nodes);
  return nodes;
}

/** kanban's own options but help and version: accepted after any subcommand too. */
function globalOptions(root: Node): OptionEntry[] {
  return root.options.filter((o) => !o.flags.includes('--help') && !o.flags.includes('--version'));
}

/** A word for a shell script, in single quotes (the tree's own words, but quoted all the same). */
function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A word for fish, in single quotes: fish reads \\ and \' inside them. */
function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, '\\$&')}'`;
}

/** One line of help text, as short as a menu wants it. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
}

export function completionScript(shell: Shell, program: Command): string {
  const nodes = walk(program, '');
  return shell === 'fish' ? fishScript(nodes) : shScript(shell, nodes);
}

/** One branch of a `case`: its patterns (already quoted) and what it does; nothing when it has no pattern. */
function branch(patterns: readonly string[], body: string): string {
  return patterns.length === 0 ? '' : `    ${patterns.join('|')}) ${body} ;;\n`;
}

/** The words of each node that `pick` chooses, as `'path|word'` case patterns. */
function pairs(nodes: readonly Node[], quoted: (text: string) => string, pick: (node: Node) => string[]): string[] {
  return nodes.flatMap((node) => pick(node).map((word) => quoted(`${node.path}|${word}`)));
}

function valueFlags(options: readonly OptionEntry[], kind?: OptionEntry['value']): string[] {
  return options.filter((o) => o.value !== 'none' && (kind === undefined || o.value === kind)).flatMap((o) => o.flags);
}

/**
 * The tables bash and zsh share (functions of `case`, which both read alike), then each shell's own
 * function that walks the words and offers them.
 */
function shScript(shell: 'bash' | 'zsh', nodes: Node[]): string {
  const globals = globalOptions(nodes[0]!);
  const described = shell === 'zsh';
  const words = (entries: Array<{ word: string; description: string }>) =>
    entries.map((e) => quote(described && e.description !== '' ? `${e.word.replace(/:/g, '\\:')}:${oneLine(e.description)}` : e.word)).join(' ');
  const printf = (entries: Array<{ word: string; description: string }>) => `printf '%s\\n' ${words(entries)}`;
  const optionWords = (options: readonly OptionEntry[]) => options.flatMap((o) => o.flags.map((flag) => ({ word: flag, description: o.description })));
  const test = (comment: string, name: string, patterns: string[], globalPatterns: string[] = []) =>
    `# ${comment}\n${name}() {\n  case "$1|$2" in\n${branch(patterns, 'return 0')}  esac\n${
      globalPatterns.length > 0 ? `  case $2 in\n${branch(globalPatterns, 'return 0')}  esac\n` : ''
    }  return 1\n}\n`;
  const lookup = (comment: string, name: string, rows: Array<{ pattern: string; entries: Array<{ word: string; description: string }> }>) =>
    `# ${comment}\n${name}() {\n  case $1 in\n${rows.filter((r) => r.entries.length > 0).map((r) => branch([r.pattern], printf(r.entries))).join('')}  esac\n}\n`;

  const tables = [
    test('Is $2 a subcommand of the path $1?', '_kanban_is_command', pairs(nodes, quote, (n) => n.commands.map((c) => c.name))),
    test('Does option $2 of the path $1 (or a global one) take a value?', '_kanban_takes_value', pairs(nodes, quote, (n) => valueFlags(n.options)), valueFlags(globals).map(quote)),
    test('Is the value of option $2 of the path $1 (or of a global one) a file?', '_kanban_takes_file', pairs(nodes, quote, (n) => valueFlags(n.options, 'file')), valueFlags(globals, 'file').map(quote)),
    lookup(
      "The choices of an option's value: $1 is 'path|option'.",
      '_kanban_choices',
      nodes.flatMap((n) => n.options.flatMap((o) => o.flags.map((flag) => ({ pattern: quote(`${n.path}|${flag}`), entries: o.choices.map((c) => ({ word: c, description: '' })) })))),
    ),
    lookup(
      'The subcommands of the path $1, or the choices of its argument.',
      '_kanban_commands',
      nodes.map((n) => ({ pattern: quote(n.path), entries: [...n.commands.map((c) => ({ word: c.name, description: c.description })), ...n.argChoices.map((c) => ({ word: c, description: '' }))] })),
    ),
    lookup('The options of the path $1.', '_kanban_options', nodes.map((n) => ({ pattern: quote(n.path), entries: optionWords(n.options) }))),
    `# The options every subcommand also takes.\n_kanban_global_options() {\n  ${printf(optionWords(globals))}\n}\n`,
  ].join('\n');

  const walker = (first: string, end: string, word: string) => `  local cmdpath= word skip= i
  for (( i = ${first}; i < ${end}; i++ )); do
    word=${word}
    if [[ -n $skip ]]; then skip=; continue; fi
    case $word in
      --*=*) ;;
      -*) _kanban_takes_value "$cmdpath" "$word" && skip=1 ;;
      *) _kanban_is_command "$cmdpath" "$word" && cmdpath=\${cmdpath:+$cmdpath }$word ;;
    esac
  done`;
  const options = '_kanban_options "$cmdpath"; [[ -n $cmdpath ]] && _kanban_global_options';
  const header = `# kanban completion for ${shell}, generated by \`kanban completion ${shell}\` from the CLI's own command tree.\n`;
  if (shell === 'bash') {
    return `${header}# Load it now with: source <(kanban completion bash)
# or for good: kanban completion bash > ~/.local/share/bash-completion/completions/kanban

${tables}
_kanban() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]}
${walker('1', 'COMP_CWORD', '${COMP_WORDS[i]}')}
  COMPREPLY=()
  if [[ -n $skip ]]; then
    if _kanban_takes_file "$cmdpath" "$prev"; then
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$(_kanban_choices "$cmdpath|$prev")" -- "$cur")
    fi
  elif [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(${options})" -- "$cur")
  else
    mapfile -t COMPREPLY < <(compgen -W "$(_kanban_commands "$cmdpath")" -- "$cur")
  fi
}
complete -F _kanban kanban
`;
  }
  return `#compdef kanban
${header}# Load it now with: source <(kanban completion zsh)
# or for good: kanban completion zsh > "\${fpath[1]}/_kanban" (then start a new zsh)

${tables}
_kanban() {
  local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
${walker('2', 'CURRENT', '${words[i]}')}
  local -a entries
  if [[ -n $skip ]]; then
    if _kanban_takes_file "$cmdpath" "$prev"; then
      _files
    else
      entries=(\${(f)"$(_kanban_choices "$cmdpath|$prev")"})
      (( \${#entries} )) && compadd -a entries
    fi
  elif [[ $cur == -* ]]; then
    entries=(\${(f)"$(${options})"})
    _describe -t options 'kanban option' entries
  else
    entries=(\${(f)"$(_kanban_commands "$cmdpath")"})
    _describe -t commands 'kanban command' entries
  fi
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  _kanban "$@"
else
  compdef _kanban kanban
fi
`;
}

/** fish: the same walker as a function, then one `complete` line per command and option. */
function fishScript(nodes: Node[]): string {
  const root = nodes[0]!;
  const globals = globalOptions(root);
  const test = (name: string, patterns: string[], globalPatterns: string[] = []) => {
    const cases = (list: string[]) => (list.length === 0 ? '' : `        case ${list.join(' ')}\n            return 0\n`);
    const second = globalPatterns.length > 0 ? `    switch $argv[2]\n${cases(globalPatterns)}    end\n` : '';
    return `function ${name}\n    switch "$argv[1]|$argv[2]"\n${cases(patterns)}    end\n${second}    return 1\nend\n`;
  };
  const optionLine = (option: OptionEntry, path: string | null) => {
    const parts = ['complete -c kanban'];
    if (path !== null) parts.push('-n', fishQuote(`__kanban_at ${fishQuote(path)}`));
    for (const flag of option.flags) parts.push(flag.startsWith('--') ? `-l ${fishQuote(flag.slice(2))}` : `-s ${fishQuote(flag.slice(1))}`);
    if (option.value !== 'none') parts.push('-r');
    if (option.value === 'file') parts.push('-F');
    if (option.choices.length > 0) parts.push('-a', fishQuote(option.choices.join(' ')));
    parts.push('-d', fishQuote(oneLine(option.description)));
    return parts.join(' ');
  };
  const lines = [
    `# kanban completion for fish, generated by \`kanban completion fish\` from the CLI's own command tree.
# Load it now with: kanban completion fish | source
# or for good: kanban completion fish > ~/.config/fish/completions/kanban.fish
`,
    test('__kanban_is_command', pairs(nodes, fishQuote, (n) => n.commands.map((c) => c.name))),
    test('__kanban_takes_value', pairs(nodes, fishQuote, (n) => valueFlags(n.options)), valueFlags(globals).map(quote)),
    `# The subcommand path of the words typed so far ('' for kanban itself).
function __kanban_path
    set -l words (commandline -opc)
    set -l cmdpath ''
    set -l skip 0
    for word in $words[2..-1]
        if test $skip = 1
            set skip 0
            continue
        end
        switch $word
            case '--*=*'
            case '-*'
                __kanban_takes_value "$cmdpath" $word; and set skip 1
            case '*'
                if __kanban_is_command "$cmdpath" $word
                    set cmdpath (string trim -- "$cmdpath $word")
                end
        end
    end
    echo $cmdpath
end

function __kanban_at
    test (__kanban_path) = "$argv[1]"
end
`,
    'complete -c kanban -f',
    ...globals.map((o) => optionLine(o, null)),
  ];
  for (const node of nodes) {
    const at = fishQuote(`__kanban_at ${fishQuote(node.path)}`);
    for (const command of node.commands) lines.push(`complete -c kanban -n ${at} -a ${fishQuote(command.name)} -d ${fishQuote(oneLine(command.description))}`);
    if (node.argChoices.length > 0) lines.push(`complete -c kanban -n ${at} -a ${fishQuote(node.argChoices.join(' '))}`);
    for (const option of node.options) if (node.path !== '' || !globals.includes(option)) lines.push(optionLine(option, node.path));
  }
  return `${lines.join('\n')}\n`;
}
