// Test helpers for the lab's tests (and others' that use the lab).
export { startLabTestApi, type LabTestApi } from './api-server.js';
