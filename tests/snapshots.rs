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
    render_report(name, &demo_report())
}

fn render_report(name: &str, report: &Report) -> String {
    let json = serde_json::to_string_pretty(&report).unwrap();
    let view = View::new(report, &json);
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
    // The report.json hash depends on the catalog hash too.
    let md = render("md");
    let md = regex::Regex::new("[0-9a-f]{64}")
        .unwrap()
        .replace_all(&md, "[sha256]");
    insta::assert_snapshot!(md);
}

#[test]
fn report_html() {
    let html = render("html");
    // The SHA-256 line depends on the catalog hash too. Our own CSS and JS (and the script's
    // hash in the CSP) are assets, not structure: the browser test checks they work.
    let html = regex::Regex::new("[0-9a-f]{64}")
        .unwrap()
        .replace_all(&html, "[sha256]");
    let html = regex::Regex::new("(?s)<style>.*?</style>")
        .unwrap()
        .replace(&html, "<style>[report.css]</style>");
    let html = regex::Regex::new("(?s)<script>.*?</script>")
        .unwrap()
        .replace(&html, "<script>[report.js]</script>");
    let html = regex::Regex::new("sha256-[A-Za-z0-9+/]+(&#x3D;)*")
        .unwrap()
        .replace(&html, "sha256-[report.js]");
    insta::assert_snapshot!(html);
}

#[test]
fn insecure_tls_is_said_in_the_banner() {
    let plain = render("html");
    assert!(!plain.contains("Certificates were not verified"));
    let mut report = demo_report();
    report.scan.config.insecure_tls = true;
    let html = render_report("html", &report);
    let banner = &html[html.find("<header").unwrap()..html.find("</header>").unwrap()];
    assert!(banner.contains("Certificates were not verified"));
    let md = render_report("md", &report);
    assert!(md.contains("certificates were not verified"));
}

#[test]
fn ready_report_says_nothing_to_fix() {
    let catalog = Catalog::builtin().unwrap();
    let text = std::fs::read_to_string("fixtures/scenarios/ready.json").unwrap();
    let set = readyscan::observation::parse_observations(&text, "ready.json").unwrap();
    let report = Report::build(
        set,
        &catalog,
        date!(2026 - 11 - 23),
        datetime!(2026-11-23 10:00 UTC),
    );
    assert!(report.ready, "the ready scenario is ready");
    let html = render_report("html", &report);
    assert!(html
        .contains("<h1 id=\"verdict\"><span class=\"verdict-prefix\">Verdict:</span> Ready</h1>"));
    assert!(html.contains("Nothing to fix"));
    assert!(!html.contains("class=\"item "), "no checklist item");
}

#[test]
fn html_structure_is_accessible() {
    let html = render("html");
    assert!(html.contains("<html lang=\"en\">"));
    // One h1 (the verdict) and no skipped heading level.
    let levels: Vec<u32> = regex::Regex::new("<h([1-6])[ >]")
        .unwrap()
        .captures_iter(&html)
        .map(|c| c[1].parse().unwrap())
        .collect();
    assert_eq!(levels.iter().filter(|l| **l == 1).count(), 1);
    assert_eq!(levels[0], 1);
    for pair in levels.windows(2) {
        assert!(pair[1] <= pair[0] + 1, "heading level jumps: {levels:?}");
    }
    // Every table has header cells with a scope.
    for table in html.split("<table").skip(1) {
        let table = &table[..table.find("</table>").unwrap()];
        assert!(table.contains("<th scope="), "a table without headers");
    }
    // Colour is never the only signal: every badge carries its status in words.
    let badge =
        regex::Regex::new(r#"<span class="badge badge-[a-z_]+">(.*?)</span>(\w[\w ]*)</span>"#)
            .unwrap();
    let badges = html.matches("<span class=\"badge ").count();
    let worded = badge.captures_iter(&html).count();
    assert!(badges > 0);
    assert_eq!(badges, worded, "a badge without a word");
}
