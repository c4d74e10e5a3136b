fn main() {
    std::process::exit(perfleak::cli::main());
}
