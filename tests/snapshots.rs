//! Snapshots of the demo report in every format, at a fixed date, so structure changes are seen.

use readyscan::catalog::Catalog;
use readyscan::render::{formats, View};
use readyscan::report::Report;
use time::macros::{date, datetime};

fn demo_report() -> Report {
    let catalog = Catalog::builtin().unwrap();
    let set = readyscan::demo::before().unwrap();
    Report::build(
        set,
        &catalog,
        date!(2026 - 11 - 23),
        datetime!(2026-11-23 10:00 UTC),
    )
}

fn render(name: &str) -> String {
    let report = demo_report();
    let json = serde_json::to_string_pretty(&report).unwrap();
    let view = View::new(&report, &json);
    let format = formats().into_iter().find(|f| f.name() == name).unwrap();
    // The catalog hash changes with every check edit; the snapshot is about structure.
    format
        .render(&view)
        .unwrap()
        .replace(&report.catalog_version, "[catalog]")
}

#[test]
fn report_json() {
    insta::assert_json_snapshot!(demo_report(), { ".catalog_version" => "[catalog]" });
}

#[test]
fn report_md() {
    insta::assert_snapshot!(render("md"));
}

#[test]
fn report_html() {
    let html = render("html");
    // The SHA-256 line depends on the catalog hash too.
    let html = regex::Regex::new("[0-9a-f]{64}")
        .unwrap()
        .replace_all(&html, "[sha256]");
    insta::assert_snapshot!(html);
}
