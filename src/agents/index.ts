import { claude } from './claude.js';
import { codex } from './codex.js';
import { gemini } from './gemini.js';
import { opencode } from './opencode.js';
import type { AgentAdapter, AgentName } from './types.js';

export const ADAPTERS: Record<AgentName, AgentAdapter> = { claude, codex, gemini, opencode };
