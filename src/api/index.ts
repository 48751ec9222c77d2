export * from './availability.js';
export * from './common.js';
export * from './conditions.js';
export * from './database-discovery.js';
export * from './database-monitor.js';
export * from './database-prerequisite.js';
export * from './duration.js';
export * from './results.js';
