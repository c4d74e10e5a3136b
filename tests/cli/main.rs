//! perfleak's tests that run its binary and its library as a user would, in one test crate:
//! a change in `src` relinks this one executable, not thirty. Each module is one area (the
//! name says which); `cargo test --test cli <module>::` runs one of them.
//!
//! The fuzzers are crates of their own (`tests/fuzz_mutants.rs`, `tests/fuzz_blg.rs`): they
//! run for minutes and one installs a process-wide panic hook.

mod cli_common;
mod report_fixture;

mod analysis_confidence;
mod analysis_day_load;
mod analysis_day_over_day;
mod analysis_day_wave;
mod analysis_false_alarms;
mod analysis_identity;
mod analysis_late_rise;
mod analysis_opinion;
mod analysis_realdata;
mod analysis_recovery;
mod analysis_shapes;
mod analysis_short_logs;
mod analysis_stats;
mod analysis_teeth;
mod analysis_working_day;
mod batch_field;
mod cli_analyze;
mod cli_help;
mod forecast_limits;
mod hostile_input;
mod hostile_out;
mod ingest_blg;
mod ingest_dates;
mod ingest_encodings;
mod ingest_formats;
mod ingest_procv2;
mod ingest_realdata;
mod kb_cli;
mod kb_import;
mod kb_matcher;
mod kb_modern;
mod kb_samples;
mod report_browser;
mod report_charts;
mod report_files;
mod report_navigation;
mod report_realdata;
mod report_reasons;
mod report_triage;
mod scale_dask;
mod scale_shards;
mod schema;
mod snapshots_outputs;
mod status_not_judged;
mod synth_blg;
mod synth_foreign;
mod synth_generator;
mod synth_samples;
mod system_series;
mod terminal;
