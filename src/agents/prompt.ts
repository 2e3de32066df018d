import type { TaskContext } from '../port/types.js';

/**
 * The prompt a run is handed, rendered from a template: the task, what its parents handed over,
 * the comments (review feedback among them), the workspace and the worker protocol. Pure.
 *
 * A template is text with `{{name}}` placeholders: title, body, task_id, run_id, workspace, parents,
 * comments, protocol. Anything else is left as written.
 */
export const DEFAULT_TEMPLATE = `You are working on a task from a kanban board.

# {{title}}

{{body}}

{{parents}}{{comments}}## Where to work
Your working directory is {{workspace}}.

{{protocol}}`;

export interface PromptInput {
  context: TaskContext;
  runId: number;
  workspace: string;
  /** How the worker runs kanban (`kanban`, on its PATH). */
  kanban: string;
  /** An agent's final answer is kept as the summary; a plain command must report. */
  answerIsSummary: boolean;
}

/**
 * Long fields and sections are cut so one task cannot make a prompt no agent accepts: the whole
 * stays well under Linux's 128 KiB for one argument (opencode and `{prompt}` take it in argv).
 */
const FIELD_LIMIT = 16_000;
const SECTION_LIMIT = 32_000;

function cut(value: string, limit = FIELD_LIMIT): string {
  return value.length > limit ? `${value.slice(0, limit)}\n[… ${value.length - limit} more characters not shown]` : value;
}

function parentsSection(parents: TaskContext['parents']): string {
  if (parents.length === 0) return '';
  const blocks = parents.map((p) => {
    const lines = [`### ${p.id}: ${p.title} (${p.status})`, p.summary ? cut(p.summary) : '(no summary)'];
    if (p.workspace_path) lines.push(`Its files: ${p.workspace_path}`);
    return lines.join('\n');
  });
  return `## What the tasks before this one handed over\n${blocks.join('\n\n')}\n\n`;
}

function commentsSection(comments: TaskContext['comments']): string {
  if (comments.length === 0) return '';
  const lines = comments.map((c) => {
    const who = c.author === 'reviewer' ? 'review feedback (address this)' : c.author;
    return `- ${who}, ${new Date(c.created_at).toISOString()}: ${cut(c.body, 4000)}`;
  });
  return `## Comments\n${lines.join('\n')}\n\n`;
}

function protocol(kanban: string, answerIsSummary: boolean): string {
  const finish = answerIsSummary
    ? 'When you are done, end with a short summary of what you did: it is recorded as the task\'s summary. Or report it yourself:'
    : 'Report how it went before you exit (exiting without reporting counts as a failure):';
  return `## Reporting back
You run as a kanban worker; your identity is in the KANBAN_* environment variables (leave them as they are).
- \`${kanban} worker comment "TEXT"\`: add a note to the task.
- \`${kanban} worker heartbeat --note "TEXT"\`: say you are alive during long silent work.
- \`${kanban} worker create "TITLE" --body "TEXT"\`: add a follow-up task.
${finish}
- \`${kanban} worker complete --summary "WHAT YOU DID"\`: the task is done.
- \`${kanban} worker review --summary "WHAT YOU DID"\`: the work is ready for a person to review.
- \`${kanban} worker block "REASON"\`: you cannot go on without a person.
`;
}

export function renderPrompt(input: PromptInput, template: string = DEFAULT_TEMPLATE): string {
  const { task } = input.context;
  const values: Record<string, string> = {
    title: cut(task.title, 1000),
    body: task.body.trim() === '' ? '(no description)' : cut(task.body),
    task_id: task.id,
    run_id: String(input.runId),
    workspace: input.workspace,
    parents: cut(parentsSection(input.context.parents), SECTION_LIMIT),
    comments: cut(commentsSection(input.context.comments), SECTION_LIMIT),
    protocol: protocol(input.kanban, input.answerIsSummary),
  };
  // One pass: a value that itself contains `{{…}}` (a task body, say) is never expanded.
  return template.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => values[name] ?? whole);
}
