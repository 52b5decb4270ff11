export { runCli, commandHelp, mainHelp } from './run.js'
export { commands } from './registry.js'
export type { CommandName } from './registry.js'
export { optionSpecs, parseCommandLine } from './options.js'
export type { OptionSpec, OptionName, OptionValues } from './options.js'
export { exitCodes, CliError, describeError } from './errors.js'
export type { ExitCodeName } from './errors.js'
export { createProgress } from './progress.js'
export type { Progress, ProgressTask, ProgressStream } from './progress.js'
export { stageOutput, OUTPUT_MARKER, cleanStaleStaging } from './output.js'
export type { StagedOutput } from './output.js'
export { REPORT_SCHEMA, REPORT_VERSION, validateReport, jaccard, pairwiseJaccard } from './report/schema.js'
export type {
  RunReport,
  BlockScoreSeries,
  SpanScoreSeries,
  MethodResult,
  PerplexityPoint,
} from './report/schema.js'
export { renderReportHtml, readEchartsSource } from './report/html.js'
export type { CommandSpec, CommandContext, CommandOutput, CliIo } from './command.js'
export { cliVersion } from './version.js'
export { defaults, defaultOf } from './defaults.js'
