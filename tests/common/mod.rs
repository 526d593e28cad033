//! Shared by the test crates: the Samba AD DC lab (fixtures/lab/samba-lab.sh) as the lab tests
//! drive it, the report helpers of [`report`], and a fake LDAP server ([`ldap`]).
// Each test crate compiles this module and uses only part of it.
#![allow(dead_code)]

// The fake LDAP server measures its child with wait4: Unix only.
#[cfg(unix)]
pub mod ldap;
pub mod report;

#[allow(unused_imports)]
pub use report::{finding, first_finding, port_check, read_json, readyscan};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Lab {
    name: String,
    env: HashMap<String, String>,
    pub state: PathBuf,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/lab/samba-lab.sh")
}

fn run(args: &[&str], state: &Path) -> Result<String, String> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .env("LAB_STATE_DIR", state)
        .output()
        .map_err(|e| format!("cannot run samba-lab.sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "samba-lab.sh {} failed: {}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `READYSCAN_LAB_SLOT=k` (1-9) moves every lab to its own names and /24s, so two worktrees
/// can run the lab tests at the same time; CI runs one suite and leaves it unset.
fn slot() -> u32 {
    std::env::var("READYSCAN_LAB_SLOT")
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|k| (1..=9).contains(k))
        .unwrap_or(0)
}

fn slotted_name(name: &str) -> String {
    match slot() {
        0 => name.to_string(),
        k => format!("{name}{k}"),
    }
}

/// The lab's third octet after the slot moved it (labs use 21-29; slot k adds 10k).
pub fn slotted_index(index: &str) -> String {
    let base: u32 = index.parse().expect("lab index is a number");
    (base + 10 * slot()).to_string()
}

impl Lab {
    /// Brings up lab `name` on 10.231.`index`.x; `extra` goes to `samba-lab.sh up` (e.g. the level).
    pub fn up(name: &str, index: &str, extra: &[&str]) -> Result<Lab, String> {
        let (name, index) = (slotted_name(name), slotted_index(index));
        let (name, index) = (name.as_str(), index.as_str());
        let state = std::env::temp_dir().join(format!("readyscan-lab-{name}"));
        let mut args = vec!["up", name, "--index", index];
        args.extend_from_slice(extra);
        run(&args, &state)?;
        let text = std::fs::read_to_string(state.join("lab.env")).map_err(|e| e.to_string())?;
        let env = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Ok(Lab {
            name: name.to_string(),
            env,
            state,
        })
    }

    /// A value of lab.env, e.g. LAB_DC_IP.
    pub fn get(&self, key: &str) -> &str {
        self.env
            .get(key)
            .map(String::as_str)
            .unwrap_or_else(|| panic!("lab.env has no {key}"))
    }

    /// Runs `samba-lab.sh COMMAND NAME ARGS...` for this lab; a failure fails the test.
    pub fn cmd(&self, command: &str, args: &[&str]) {
        let mut all = vec![command, self.name.as_str()];
        all.extend_from_slice(args);
        if let Err(e) = run(&all, &self.state) {
            panic!("{e}");
        }
    }

    /// Runs `samba-lab.sh COMMAND NAME` with `input` on stdin (ldif-add); a failure fails the test.
    pub fn cmd_stdin(&self, command: &str, input: &str) {
        use std::io::Write;
        let mut child = Command::new("bash")
            .arg(script())
            .args([command, self.name.as_str()])
            .env("LAB_STATE_DIR", &self.state)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .expect("samba-lab.sh runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("LDIF written");
        drop(stdin);
        let status = child.wait().expect("samba-lab.sh ends");
        assert!(status.success(), "samba-lab.sh {command} failed: {status}");
    }

    pub fn dns_add(&self, zone: &str, record: &str, rtype: &str, data: &str) {
        self.cmd("dns-add", &[zone, record, rtype, data]);
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = run(&["down", &self.name], &self.state);
    }
}

/// Why this machine cannot run the lab, or `None` when it can. Under CI=true a lab that cannot
/// run is a failure, not a skip.
pub fn cannot_run(test: &str) -> Option<String> {
    let why = if !is_root() {
        Some("not root: the lab needs network namespaces".to_string())
    } else if !Path::new("/usr/bin/samba-tool").exists() {
        Some("Samba is not installed: run fixtures/lab/samba-lab.sh install".to_string())
    } else {
        None
    }?;
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true but {test} cannot run: {why}"
    );
    eprintln!("SKIPPED {test}: {why}");
    Some(why)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
