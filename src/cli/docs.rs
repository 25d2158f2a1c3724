//! `kaconsole man` and `kaconsole completions`: the manual pages and the shell completions,
//! generated from the command line's own definition (clap_mangen, clap_complete), so they
//! say what `--help` says.

use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory;

use super::Cli;

/// The pages this build writes: kaconsole.1, then kaconsole-COMMAND.1 per visible command.
pub fn pages() -> Vec<(String, Vec<u8>)> {
    let cmd = Cli::command().version(crate::sys::host::VERSION);
    let mut out = Vec::new();
    let mut page = |name: String, c: clap::Command| {
        let mut bytes = Vec::new();
        let man = clap_mangen::Man::new(c)
            .source(format!("kaconsole {}", crate::sys::host::VERSION))
            .manual("kaconsole manual");
        if man.render(&mut bytes).is_ok() {
            out.push((format!("{name}.1"), bytes));
        }
    };
    page("kaconsole".into(), cmd.clone());
    for sub in cmd.get_subcommands().filter(|c| !c.is_hide_set()) {
        // A one-shot command: the page's name lives as long as the process.
        let name: &'static str = Box::leak(format!("kaconsole-{}", sub.get_name()).into());
        page(name.into(), sub.clone().name(name));
    }
    out
}

pub fn man(dir: &Path) -> ExitCode {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("kaconsole man: {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    for (name, bytes) in pages() {
        let path = dir.join(&name);
        if let Err(e) = std::fs::write(&path, bytes) {
            eprintln!("kaconsole man: {}: {e}", path.display());
            return ExitCode::from(1);
        }
        println!("{}", path.display());
    }
    ExitCode::SUCCESS
}

pub fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, "kaconsole", &mut std::io::stdout());
    ExitCode::SUCCESS
}
