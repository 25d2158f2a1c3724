//! keepalived 2.3 - 2.4.3 configurations are read: `${_ENV NAME}` wherever keepalived expands
//! it (values, addresses, include paths), vrrp_script intervals in milliseconds,
//! `no_virtual_ipaddress`, the new global keywords; `auth_hmac` is read and refused with an
//! error that says why. Through the real binary (`kaconsole check`), with the environment
//! given to it.

mod common;

use std::path::Path;
use std::process::Command;

fn check(dir: &Path, conf: &str, env: &[(&str, &str)], extra: &[&str]) -> (i32, String, String) {
    let path = dir.join("keepalived.conf");
    std::fs::write(&path, conf).unwrap();
    let out = Command::new(common::kaconsole())
        .args(["check", "--no-env", "-f"])
        .arg(&path)
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    // Diagnostics go to stdout, or to stderr with --dump (the JSON is then on stdout).
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    let dumped = extra.contains(&"--dump");
    let diags = if dumped {
        stderr
    } else {
        stdout.clone() + &stderr
    };
    (out.status.code().unwrap_or(-1), stdout, diags)
}

const INSTANCE: &str = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        ${_ENV KH_VIP}
    }
}
";

#[test]
fn env_expands_in_values_addresses_and_include_paths() {
    let dir = tempfile::tempdir().unwrap();
    let inc = dir.path().join("inc");
    std::fs::create_dir(&inc).unwrap();
    std::fs::write(inc.join("vi.conf"), INSTANCE).unwrap();
    let conf = "global_defs {
    router_id ${_ENV KH_ROUTER_ID}
}
include ${_ENV KH_DIR}/vi.conf
";
    let env = [
        ("KH_ROUTER_ID", "lb-2"),
        ("KH_VIP", "10.1.2.3/24"),
        ("KH_DIR", inc.to_str().unwrap()),
    ];
    let (code, json, err) = check(dir.path(), conf, &env, &["--dump"]);
    assert!(code < 2, "{err}");
    let dump: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(dump["global_defs"]["router_id"], "lb-2", "{err}");
    assert_eq!(
        dump["vrrp_instances"][0]["virtual_ipaddress"][0]["addr"],
        "10.1.2.3/24"
    );
    // Unset, the expansion is empty (as keepalived's getenv), with a warning naming it.
    let (code, _, err) = check(dir.path(), conf, &[("KH_DIR", inc.to_str().unwrap())], &[]);
    assert_eq!(code, 2, "router_id without a value: {err}");
    assert!(
        err.contains("warning[env-unset]: environment variable KH_ROUTER_ID is not set"),
        "{err}"
    );
}

#[test]
fn vrrp_script_takes_milliseconds_with_a_warning_for_older_nodes() {
    let dir = tempfile::tempdir().unwrap();
    let conf = "vrrp_script chk {
    script /bin/true
    interval 0.25
    timeout 0.1
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {
        10.1.2.3/24
    }
    track_script {
        chk
    }
}
";
    let (code, json, err) = check(dir.path(), conf, &[], &["--dump"]);
    assert!(code < 2, "{err}");
    let dump: serde_json::Value = serde_json::from_str(&json).unwrap();
    let s = &dump["vrrp_scripts"][0];
    assert_eq!(
        (s["interval"].clone(), s["timeout"].clone()),
        (0.25.into(), 0.1.into()),
        "{s}"
    );
    assert!(
        err.contains("'interval' with a fraction of a second needs keepalived 2.3.2"),
        "{err}"
    );
}

#[test]
fn new_keywords_are_read_and_no_virtual_ipaddress_allows_an_empty_v3_instance() {
    let dir = tempfile::tempdir().unwrap();
    let conf = "global_defs {
    use_symlink_paths
    vrrp_owner_ignore_adverts
    json_version 2
    iproute_etc_dir /etc/iproute2
}
vrrp_instance VI_1 {
    interface eth0
    version 3
    virtual_router_id 51
    priority 100
    no_virtual_ipaddress
}
";
    let (code, _, err) = check(dir.path(), conf, &[], &[]);
    assert!(code < 2, "{err}");
    assert!(!err.contains("no virtual_ipaddress"), "{err}");
    for k in [
        "use_symlink_paths",
        "vrrp_owner_ignore_adverts",
        "iproute_etc_dir",
    ] {
        assert!(
            err.contains(&format!("'{k}' needs keepalived 2.3")),
            "{k} is named as newer: {err}"
        );
    }
    // Without it, an empty VRRPv3 instance is an error, as in keepalived.
    let (code, _, err) = check(
        dir.path(),
        &conf.replace("    no_virtual_ipaddress\n", ""),
        &[],
        &[],
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn auth_hmac_is_read_and_refused_naming_the_issue_that_brings_it() {
    let dir = tempfile::tempdir().unwrap();
    let conf = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    auth_hmac {
        key 1 hex:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
        active_key 1
        anti_replay time
        time_window 5
        mode enforce
    }
    virtual_ipaddress {
        10.1.2.3/24
    }
}
";
    let (code, _, err) = check(dir.path(), conf, &[], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("error[not-implemented]: 'auth_hmac' (keepalived 2.4.0) is not implemented by kaconsole yet"),
        "{err}"
    );
    assert!(err.contains("issue 16"), "{err}");
    assert!(
        !err.contains("unknown keyword"),
        "its keywords are known: {err}"
    );
    // A wrong value inside is still named.
    let (_, _, err) = check(
        dir.path(),
        &conf.replace("mode enforce", "mode lenient"),
        &[],
        &[],
    );
    assert!(err.contains("lenient"), "{err}");
}
