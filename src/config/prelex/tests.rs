use std::fs;
use std::path::Path;

use super::*;
use crate::config::diag::Diagnostics;
use crate::config::source::SourceMap;

struct Out {
    lines: Vec<LogicalLine>,
    map: SourceMap,
    diags: Diagnostics,
}

impl Out {
    fn texts(&self) -> Vec<&str> {
        self.lines.iter().map(|l| l.text.as_str()).collect()
    }
    fn codes(&self) -> Vec<&str> {
        self.diags.iter().map(|d| d.code).collect()
    }
}

fn run_file(path: &Path, opts: &PrelexOptions) -> Out {
    let mut map = SourceMap::new();
    let mut diags = Diagnostics::default();
    let lines = Prelexer::new(path, opts, &mut map, &mut diags).run();
    Out { lines, map, diags }
}

fn run_with(text: &str, opts: &PrelexOptions) -> Out {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keepalived.conf");
    fs::write(&path, text).unwrap();
    run_file(&path, opts)
}

fn run(text: &str) -> Out {
    run_with(text, &PrelexOptions::default())
}

#[test]
fn braces_split_lines_and_the_rest_is_read_as_the_next_line() {
    let o =
        run("vrrp_instance X { state BACKUP\n  virtual_ipaddress { 10.1.1.1/24 dev eth0 }\n}\n");
    assert_eq!(
        o.texts(),
        [
            "vrrp_instance X",
            "{",
            "state BACKUP",
            "virtual_ipaddress",
            "{",
            "10.1.1.1/24 dev eth0",
            "}",
            "}"
        ]
    );
    // Columns point where the text was written.
    assert_eq!(o.lines[2].span.col, 19);
    assert_eq!(o.lines[5].span.col, 23);
    assert_eq!(o.lines[5].span.line, 2);
}

#[test]
fn braces_in_double_quotes_do_not_split() {
    let o = run("notify \"/bin/echo {x}\" {\n");
    assert_eq!(o.texts(), ["notify \"/bin/echo {x}\"", "{"]);
}

#[test]
fn comments_and_blank_lines_vanish() {
    let o = run("! header\n\n# x\n  priority 100 # y\n");
    assert_eq!(o.texts(), ["priority 100"]);
    assert_eq!(o.lines[0].span.line, 4);
    assert_eq!(o.lines[0].span.col, 3);
}

#[test]
fn conditional_lines_follow_the_config_id() {
    let opts = PrelexOptions {
        config_id: "high".into(),
        ..Default::default()
    };
    let o = run_with(
        "@high priority 170\n@low priority 85\n@^low state MASTER\n@^high x\n@high\n",
        &opts,
    );
    assert_eq!(o.texts(), ["priority 170", "state MASTER"]);
    assert_eq!(o.lines[0].span.col, 7);
}

#[test]
fn definitions_are_substituted_at_use_and_recursively() {
    let o = run("$A=1\n$B=${A}0\nx $B\n$A=2\ny $B\nz ${B}.5 $C\n");
    assert_eq!(o.texts(), ["x 10", "y 20", "z 20.5 $C"]);
}

#[test]
fn definition_columns_point_at_the_reference() {
    let o = run("$IP=10.0.0.1\n  mcast_src_ip $IP\n");
    let l = &o.lines[0];
    assert_eq!(l.text, "mcast_src_ip 10.0.0.1");
    assert_eq!(l.span_of(13, 21).col, 16, "substituted text maps to the $");
}

#[test]
fn multi_line_definitions_expand_to_several_lines() {
    let text = "$VI= \\\nvrrp_instance ${N} { \\\n  priority 10 \\\n}\n$N=a\n$VI\n";
    let o = run(text);
    assert_eq!(o.texts(), ["vrrp_instance a", "{", "priority 10", "}"]);
    // All expanded lines are reported at the line that used $VI.
    assert!(o.lines.iter().all(|l| l.span.line == 6));
    let notes = crate::config::diag::origin_notes(&o.map, o.lines[2].span);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("$VI"), "{notes:?}");
}

#[test]
fn an_empty_line_ends_a_multi_line_definition() {
    let o = run("$X= \\\na \\\n\nb\n$X\n");
    assert_eq!(o.texts(), ["b", "a"]);
}

#[test]
fn multi_line_definition_needs_the_reference_at_line_end() {
    let o = run("$X= \\\na \\\nb\nfoo $X bar\n");
    assert_eq!(o.texts(), ["foo $X bar"]);
}

#[test]
fn seq_repeats_with_the_variable_set() {
    let o = run("~SEQ(i, 3) ip 10.0.${i}.1\n");
    assert_eq!(o.texts(), ["ip 10.0.1.1", "ip 10.0.2.1", "ip 10.0.3.1"]);
    let notes = crate::config::diag::origin_notes(&o.map, o.lines[1].span);
    assert_eq!(notes, ["in ~SEQ iteration i=2"]);
}

#[test]
fn seq_nests_left_to_right() {
    let o = run("~SEQ(A, 0, 1) ~SEQ(B, 1, 2) x${A}${B}\n");
    assert_eq!(o.texts(), ["x01", "x02", "x11", "x12"]);
    let notes = crate::config::diag::origin_notes(&o.map, o.lines[3].span);
    assert_eq!(notes, ["in ~SEQ iteration B=2", "in ~SEQ iteration A=1"]);
}

#[test]
fn seq_of_multi_line_definition() {
    let text =
        "$VI= \\\nvrrp_instance v${ID} { \\\n  virtual_router_id ${ID} \\\n}\n~SEQ(ID, 1, 2) $VI\n";
    let o = run(text);
    assert_eq!(
        o.texts(),
        [
            "vrrp_instance v1",
            "{",
            "virtual_router_id 1",
            "}",
            "vrrp_instance v2",
            "{",
            "virtual_router_id 2",
            "}"
        ]
    );
    assert!(o.lines.iter().all(|l| l.span.line == 5));
}

#[test]
fn man_page_seq_example_counts_65024_instances() {
    let text = "$VI4= \\\nvrrp_instance vrrp4.${IF}.${NUM}.${ID} { \\\n virtual_router_id ${ID} \\\n}\n~SEQ(IF,0,7) ~SEQ(NUM,0,31) ~SEQ(ID,1,254) $VI4\n";
    let o = run(text);
    let n = o
        .lines
        .iter()
        .filter(|l| l.text.starts_with("vrrp_instance"))
        .count();
    assert_eq!(n, 65_024);
    assert_eq!(o.lines.last().unwrap().text, "}");
    let first = o.texts()[0].to_string();
    assert_eq!(first, "vrrp_instance vrrp4.0.0.1");
    let last_inst = o
        .lines
        .iter()
        .rev()
        .find(|l| l.text.starts_with("vrrp_instance"))
        .unwrap();
    assert_eq!(last_inst.text, "vrrp_instance vrrp4.7.31.254");
}

#[test]
fn lst_iterates_lists_and_nests() {
    let o = run("~LST({IP, IP1}, {10,1},{20,4}) 192.168.${IP}.${IP1}\n");
    assert_eq!(o.texts(), ["192.168.10.1", "192.168.20.4"]);
    let o = run("~LST(A, 1, 2) ~LST(B, x, y) ${A}${B}\n");
    assert_eq!(o.texts(), ["1x", "1y", "2x", "2y"]);
}

#[test]
fn invalid_seq_is_reported_at_its_line() {
    let o = run("ok\n~SEQ(i, 1, 0, 3) x\n");
    assert_eq!(o.texts(), ["ok"]);
    assert_eq!(o.codes(), ["invalid-seq"]);
    assert_eq!(o.diags.iter().next().unwrap().span.unwrap().line, 2);
}

#[test]
fn builtins() {
    let opts = PrelexOptions {
        config_id: "node1".into(),
        ..Default::default()
    };
    let o = run_with(
        "router_id ${_INSTANCE}\nx \"a${_HASH}b\" c${_BANG}d\nr ${_RANDOM 5 5}\np ${_PWD}\n",
        &opts,
    );
    assert_eq!(o.texts()[0], "router_id node1");
    // Unquoted ${_BANG} becomes a comment when the line is looked at again (as in keepalived).
    assert_eq!(o.texts()[1], "x \"a#b\" c");
    assert_eq!(o.texts()[2], "r 5");
    assert!(o.texts()[3].starts_with("p /"), "{}", o.texts()[3]);
}

#[test]
fn random_bounds_at_the_limits() {
    let o = run("a ${_RANDOM 0 18446744073709551615}\nb ${_RANDOM 7 3}\n");
    let a = o.texts()[0].strip_prefix("a ").unwrap().parse::<u64>();
    assert!(a.is_ok(), "{:?}", o.texts());
    let b: u64 = o.texts()[1].strip_prefix("b ").unwrap().parse().unwrap();
    assert!((3..=7).contains(&b), "{b}");
}

#[test]
fn undefined_braced_reference_outside_quotes_is_an_error() {
    let o = run("router_id ${NOPE}\nscript \"echo ${HOME}\"\n");
    assert_eq!(o.codes(), ["undefined-definition"]);
}

#[test]
fn recursive_definition_is_stopped() {
    let o = run("$A=$A\nx $A\n");
    assert!(
        o.codes().contains(&"recursive-definition"),
        "{:?}",
        o.codes()
    );
}

#[test]
fn runaway_seq_is_refused() {
    let opts = PrelexOptions {
        max_lines: 1000,
        ..Default::default()
    };
    let o = run_with("~SEQ(i, 1, 1000000000) x\n", &opts);
    assert!(o.lines.is_empty());
    assert_eq!(o.codes(), ["too-many-lines"]);
    let o = run_with("~SEQ(i, 1, 600) ~SEQ(j, 1, 600) x\n", &opts);
    assert!(o.lines.len() < 1000);
    assert!(o.codes().contains(&"too-many-lines"));
}

#[test]
fn runaway_bytes_are_refused() {
    let opts = PrelexOptions {
        max_bytes: 10_000,
        ..Default::default()
    };
    let long = "x".repeat(1000);
    let o = run_with(&format!("~SEQ(i, 1, 100) {long}\n"), &opts);
    assert!(o.lines.len() < 10, "{} lines", o.lines.len());
    assert_eq!(o.codes(), ["too-many-lines"]);
    let message = &o.diags.iter().next().unwrap().message;
    assert!(message.contains("10000 bytes"), "{message}");
    // Under the cap, everything is read.
    let o = run_with(&format!("~SEQ(i, 1, 5) {long}\n"), &opts);
    assert_eq!(o.lines.len(), 5);
    assert!(o.codes().is_empty());
}

#[test]
fn unterminated_quote() {
    let o = run("script \"abc\n");
    assert_eq!(o.codes(), ["unterminated-quote"]);
}

#[test]
fn nul_bytes_and_invalid_utf8_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.conf");
    fs::write(&path, b"a\0b\nok \xff\n").unwrap();
    let o = run_file(&path, &PrelexOptions::default());
    assert_eq!(o.codes(), ["invalid-utf8", "nul-byte"]);
    assert_eq!(o.texts(), ["ok \u{fffd}"]);
}

#[test]
fn invalid_utf8_is_reported_once_per_file_at_its_first_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.conf");
    // A GBK-commented file: every comment line has bytes that are not UTF-8.
    fs::write(
        &path,
        b"ok\n# \xc5\xe4\xd6\xc3\n# \xb8\xa8\nx\n# \xd6\xf7\n",
    )
    .unwrap();
    let o = run_file(&path, &PrelexOptions::default());
    assert_eq!(o.codes(), ["invalid-utf8"]);
    let d = o.diags.iter().next().unwrap();
    assert_eq!(d.span.map(|s| s.line), Some(2));
    assert!(d.message.contains("and 2 more line(s)"), "{}", d.message);
}

#[test]
fn includes_are_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("conf.d")).unwrap();
    fs::create_dir(dir.path().join("conf.d/sub")).unwrap();
    fs::write(
        dir.path().join("main.conf"),
        "a\ninclude conf.d/*.conf\nz\n",
    )
    .unwrap();
    fs::write(dir.path().join("conf.d/1.conf"), "b\ninclude sub/x.conf\n").unwrap();
    fs::write(dir.path().join("conf.d/2.conf"), "d\n").unwrap();
    fs::write(dir.path().join("conf.d/sub/x.conf"), "c\n").unwrap();
    let o = run_file(&dir.path().join("main.conf"), &PrelexOptions::default());
    assert_eq!(o.texts(), ["a", "b", "c", "d", "z"]);
    assert!(o.diags.is_empty());
    let c = &o.lines[2];
    assert!(o.map.path(c.span.file).ends_with("conf.d/sub/x.conf"));
    assert_eq!(c.span.line, 1);
}

#[test]
fn include_loops_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.conf"), "a\ninclude b.conf\n").unwrap();
    fs::write(dir.path().join("b.conf"), "b\ninclude a.conf\n").unwrap();
    let o = run_file(&dir.path().join("a.conf"), &PrelexOptions::default());
    assert_eq!(o.texts(), ["a", "b"]);
    assert_eq!(o.codes(), ["include-loop"]);
    let d = o.diags.iter().next().unwrap();
    assert!(d.notes[0].contains("a.conf -> "), "{:?}", d.notes);
}

#[test]
fn include_variants_decide_error_or_warning() {
    let o = run("include missing.conf\n");
    let d = o.diags.iter().next().unwrap();
    assert_eq!(d.severity, crate::config::diag::Severity::Warning);
    let o = run("includem missing.conf\n");
    assert!(o.diags.has_errors());
    let o = run("include nothing/*.conf\n");
    assert_eq!(o.codes(), ["include"], "the directory is missing");
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("empty")).unwrap();
    fs::write(
        dir.path().join("m.conf"),
        "include empty/*.conf\nincludew empty/*.conf\n",
    )
    .unwrap();
    let o = run_file(&dir.path().join("m.conf"), &PrelexOptions::default());
    assert_eq!(
        o.diags.len(),
        1,
        "only includew complains about an empty wildcard"
    );
    assert!(o.diags.has_errors());
}

#[test]
fn include_check_changes_the_default_for_later_includes() {
    let o = run("include_check\ninclude missing.conf\n");
    assert!(o.diags.has_errors());
    assert_eq!(
        o.texts(),
        ["include_check"],
        "the line is kept for the parser"
    );
}

#[test]
fn executable_include_is_skipped_like_keepalived() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("m.conf"), "include x.conf\n").unwrap();
    fs::write(dir.path().join("x.conf"), "x\n").unwrap();
    fs::set_permissions(dir.path().join("x.conf"), fs::Permissions::from_mode(0o755)).unwrap();
    let o = run_file(&dir.path().join("m.conf"), &PrelexOptions::default());
    assert!(o.lines.is_empty());
    assert_eq!(o.codes(), ["include"]);
}

#[test]
fn missing_main_file_is_an_error() {
    let o = run_file(Path::new("/nonexistent/k.conf"), &PrelexOptions::default());
    assert_eq!(o.codes(), ["file-not-found"]);
    assert!(o.diags.has_errors());
}

#[test]
fn long_lines_warn_but_are_read_whole() {
    let long = format!("x {}\n", "a".repeat(2000));
    let o = run(&long);
    assert_eq!(o.codes(), ["line-too-long"]);
    assert_eq!(o.lines[0].text.len(), 2002);
}

#[test]
fn crlf_line_endings() {
    let o = run("a 1\r\nb 2\r\n");
    assert_eq!(o.texts(), ["a 1", "b 2"]);
}
