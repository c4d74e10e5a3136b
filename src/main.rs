//! The `perfleak` binary: the command line lives in `cmd/`, the pipeline in the library.

mod cmd;

fn main() {
    std::process::exit(cmd::main());
}
