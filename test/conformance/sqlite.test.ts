import { sqliteFactory } from '../sqlite/factory.js';
import { stateMachine } from './state-machine.js';
import { conformance } from './suite.js';

/** The board port's specs on SQLite (test/sqlite/ holds what only a SQLite board does). */
conformance(sqliteFactory);
stateMachine(sqliteFactory, { numRuns: 150, maxCommands: 80 });
