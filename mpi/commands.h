/* commands.h -- the riverforge subcommands. Each takes the argv that follows the subcommand name
 * (argv[0] is the subcommand) and returns the process exit code (common/rf_error.h). `run`,
 * `sweep`, `eval` and `calibrate` are MPI programs; main() initializes MPI for them alone. */
#ifndef RF_COMMANDS_H
#define RF_COMMANDS_H

int rf_cmd_synth(int argc, char **argv);
int rf_cmd_plan(int argc, char **argv);
int rf_cmd_run(int argc, char **argv);
int rf_cmd_inspect(int argc, char **argv);
int rf_cmd_dequantize(int argc, char **argv);
int rf_cmd_export(int argc, char **argv);
int rf_cmd_vqc(int argc, char **argv);
int rf_cmd_sweep(int argc, char **argv);
int rf_cmd_report(int argc, char **argv);
int rf_cmd_eval(int argc, char **argv);
int rf_cmd_calibrate(int argc, char **argv);

#endif
