export * from './errors.js';
export * from './payloads.js';
export * from './topics.js';
export * from './validate.js';
export * from './orders.js';
export * from './sync.js';
