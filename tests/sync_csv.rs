//! `--format sync-csv`: the directory-synchronization fix list from saved observations.

mod common;

use common::readyscan;
use serde_json::{json, Value};

fn rows_of(csv_text: &str) -> Vec<Vec<String>> {
    let body = csv_text
        .strip_prefix('\u{feff}')
        .expect("a byte order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn demo_fix_list_parses_back() {
    let out = tempfile::tempdir().unwrap();
    readyscan()
        .args([
            "evaluate",
            "fixtures/demo/before.json",
            "--format",
            "sync-csv,json",
            "--out",
        ])
        .arg(out.path())
        .assert()
        .code(1);
    let text = std::fs::read_to_string(out.path().join("sync-errors.csv")).unwrap();
    assert!(text.contains("\r\n"), "CRLF line ends");
    let rows = rows_of(&text);
    assert_eq!(rows[0][0], "DN");
    assert_eq!(rows[0][6], "Rule ID");
    let before: Value =
        serde_json::from_str(&std::fs::read_to_string("fixtures/demo/before.json").unwrap())
            .unwrap();
    let planted = before["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["probe"] == "ldap.sync_objects")
        .unwrap()["fields"]["rows"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows.len() - 1, planted.len());
    for (row, p) in rows[1..].iter().zip(&planted) {
        assert_eq!(row[0], p["dn"].as_str().unwrap());
        assert_eq!(row[6], p["rule"].as_str().unwrap());
        assert_eq!(row[5], p["suggested"].as_str().unwrap_or(""));
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("report.json")).unwrap())
            .unwrap();
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"].as_str().unwrap().starts_with("sync-"))
        .map(|f| {
            (
                f["check_id"].as_str().unwrap(),
                f["status"].as_str().unwrap(),
            )
        })
        .filter(|(_, s)| *s != "pass")
        .collect::<std::collections::BTreeSet<_>>();
    // The demo's before state: one finding per broken rule, the others pass.
    let want = [
        ("sync-displayname-whitespace", "warn"),
        ("sync-proxyaddresses-duplicate", "fail"),
        ("sync-upn-invalid-characters", "fail"),
        ("sync-upn-non-routable-suffix", "fail"),
    ];
    assert_eq!(f, want.into_iter().collect());
}

#[test]
fn hostile_values_are_defused_in_the_csv() {
    let mut set: Value =
        serde_json::from_str(&std::fs::read_to_string("fixtures/demo/before.json").unwrap())
            .unwrap();
    let huge = "x".repeat(10_000);
    let obs = set["observations"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|o| o["probe"] == "ldap.sync_objects")
        .unwrap();
    obs["fields"]["rows"] = json!([{
        "rule": "sync-upn-invalid-characters", "blocker": true,
        "dn": "=HYPERLINK(\"http://x\")", "object_class": "user", "attribute": "userPrincipalName",
        "value": "<script>alert(1)</script>\u{202e}@contoso.com", "what": huge,
        "suggested": "+cmd|' /C calc'!A0"
    }]);
    obs["fields"]["rules"][0]["examples"][0]["value"] =
        json!("<script>alert(1)</script>\u{202e}@contoso.test");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("hostile.json");
    std::fs::write(&input, serde_json::to_string(&set).unwrap()).unwrap();
    let out = dir.path().join("out");
    readyscan()
        .arg("evaluate")
        .arg(&input)
        .args(["--format", "sync-csv,html,md", "--out"])
        .arg(&out)
        .assert()
        .code(1);
    let rows = rows_of(&std::fs::read_to_string(out.join("sync-errors.csv")).unwrap());
    assert_eq!(rows.len(), 2);
    assert!(
        rows[1][0].starts_with("'="),
        "formula defused: {}",
        rows[1][0]
    );
    assert!(
        rows[1][5].starts_with("'+"),
        "formula defused: {}",
        rows[1][5]
    );
    assert!(!rows[1][3].contains('\u{202e}'), "bidi override dropped");
    assert_eq!(rows[1][4].len(), 10_000);
    // The rule tallies' examples (demo values) are shown escaped; no raw markup in any format.
    obs_rows_escaped(&out);
}

fn obs_rows_escaped(out: &std::path::Path) {
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Directory synchronization"));
    assert!(html.contains("Bo (temp)"));
    assert!(html.contains("&lt;script&gt;alert(1)"), "markup escaped");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## Directory synchronization"));
    for text in [&html, &md] {
        assert!(!text.contains("<script>alert"), "raw markup");
        assert!(!text.contains('\u{202e}'), "bidi override");
    }
}
