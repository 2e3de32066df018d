#!/usr/bin/env node
// Thin launcher: the CLI, bundled into one file at build time (npm run build) so it starts fast.
import '../dist/bundle/main.js';
