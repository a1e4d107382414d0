export { run, buildProgram } from './program';
export { ExitCode } from './errors';
