//! The command line's own documentation: the help texts, the Examples sections, the ranges
//! in the help and in the checks, `kaconsole man` and `kaconsole completions`, `--version`.

mod common;

use std::process::{Command, Output};

fn kac(args: &[&str]) -> Output {
    Command::new(common::kaconsole())
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const COMMANDS: [&str; 12] = [
    "check",
    "daemon",
    "sim",
    "lab",
    "sniff",
    "genhash",
    "status",
    "reload",
    "events",
    "man",
    "completions",
    "tui",
];

#[test]
fn each_command_has_its_description_and_examples() {
    let top = out(&kac(&["--help"]));
    let line = |cmd: &str| {
        top.lines()
            .find(|l| l.trim_start().starts_with(&format!("{cmd} ")))
            .unwrap_or_else(|| panic!("{cmd} missing: {top}"))
            .to_string()
    };
    assert!(line("lab").contains("throwaway network"), "{top}");
    assert!(line("tui").contains("live console"), "{top}");
    for cmd in COMMANDS {
        let o = kac(&[cmd, "--help"]);
        assert!(o.status.success(), "{cmd}");
        let help = out(&o);
        assert!(help.contains("Examples:\n  "), "{cmd}: {help}");
        assert!(
            help.lines().next().is_some_and(|l| !l.starts_with("Usage")),
            "{cmd} has no description: {help}"
        );
    }
    let daemon = out(&kac(&["daemon", "--help"]));
    assert!(!daemon.contains("not built yet"), "{daemon}");
    assert!(daemon.contains("5 other errors (a missing"), "{daemon}");
    assert!(daemon.contains("--metrics"), "{daemon}");
}

#[test]
fn the_ranges_in_the_help_are_the_ones_checked() {
    let lab = out(&kac(&["lab", "--help"]));
    assert!(lab.contains("routers on the segment, 1-8"), "{lab}");
    let o = kac(&["lab", "--routers", "9", "--sim", "--headless"]);
    assert_eq!(o.status.code(), Some(2));
    let sim = out(&kac(&["sim", "--help"]));
    assert!(sim.contains("1 <= MIN <= MAX <= 64"), "{sim}");
    assert_eq!(kac(&["sim", "--routers", "2..65"]).status.code(), Some(2));
    // --only outside the run is refused rather than run anyway.
    let o = kac(&["sim", "--only", "99999", "--scenarios", "5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--only 99999: the run has scenarios 0 to 4"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn man_writes_a_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let o = kac(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert!(o.status.success());
    let page = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
    let top = page("kaconsole.1");
    assert!(top.contains(".TH kaconsole 1"), "{top}");
    assert!(top.contains("kaconsole 0.1.0 (commit "), "{top}");
    assert!(top.contains("kaconsole\\-daemon(1)"), "{top}");
    for cmd in COMMANDS {
        let p = page(&format!("kaconsole-{cmd}.1"));
        assert!(p.contains(&format!(".TH kaconsole-{cmd} 1")), "{cmd}: {p}");
        assert!(
            p.contains(".SH NAME") && p.contains("Examples:"),
            "{cmd}: {p}"
        );
    }
    // Nothing internal.
    assert!(!dir.path().join("kaconsole-__check-text.1").exists());
    // man itself reads them, when it is installed.
    if let Some(man) = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("man"))
            .find(|p| p.is_file())
    }) {
        let o = Command::new(man)
            .args(["-l", "-P", "cat"])
            .arg(dir.path().join("kaconsole-status.1"))
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let words = out(&o).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(words.contains("Exit status: 0 every instance"), "{words}");
    }
}

#[test]
fn completions_for_each_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef kaconsole"),
        ("fish", "complete -c kaconsole"),
    ] {
        let o = kac(&["completions", shell]);
        assert!(o.status.success(), "{shell}");
        let text = out(&o);
        assert!(text.contains(marker), "{shell}: {text}");
        for cmd in ["daemon", "status", "metrics", "use-file"] {
            assert!(text.contains(cmd), "{shell}: {cmd}");
        }
    }
    assert_eq!(kac(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn version_names_the_commit() {
    let v = out(&kac(&["--version"]));
    assert!(v.starts_with("kaconsole 0.1.0 (commit "), "{v}");
    let d = out(&kac(&["daemon", "-v"]));
    assert!(d.contains("(commit "), "{d}");
}
