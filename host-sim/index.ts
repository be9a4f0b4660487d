// host-sim: a Proxy-Wasm host that behaves like Envoy, for testing filters without Envoy.
// This entry runs under Node: its adapter (files, real servers, the vm timeout) comes first.
import './node/platform.js';
export * from './core.js';
