fn main() -> std::process::ExitCode {
    kaconsole::cli::main()
}
