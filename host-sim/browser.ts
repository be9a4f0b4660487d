// host-sim in a page: the same API as under Node, on the platform a browser has (no files: give
// modules as bytes; no sockets: give clusters as handler functions; no interrupt for modules
// without a compiled-in budget).
export * from './core.js';
