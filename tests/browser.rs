//! The demo report in a real browser: headless Chromium opens report.html from file://, dumps
//! the DOM, takes a screenshot and prints a PDF. What proves "no request left the page":
//! Chromium's own network log (--log-net-log) lists every URL request with the frame that made
//! it; none may come from the page. Console messages (CSP violations included) go to stderr
//! with --enable-logging. A control run with a planted image shows both detectors work.
//!
//! Chromium's own background services (updates, sign-in) are pointed at a dead loopback proxy
//! and an empty host resolver so nothing leaves the machine during the test.
//!
//! Needs /usr/bin/chromium and pdftotext (Debian: chromium, poppler-utils). Missing: fails
//! under CI=true, otherwise skips with the reason.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

const CHROMIUM: &str = "/usr/bin/chromium";

fn tools_present() -> bool {
    let missing: Vec<&str> = [CHROMIUM, "/usr/bin/pdftotext"]
        .into_iter()
        .filter(|p| !Path::new(p).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "browser test needs {} (apt-get install chromium poppler-utils fonts-dejavu-core)",
        missing.join(" and ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("skipping: {msg}");
    false
}

fn workdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("browser")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes the demo report with the real binary, as an administrator would.
fn demo_report(dir: &Path) -> (PathBuf, Value) {
    report_with(dir, &["scan", "--demo"])
}

/// The demo forest with hostile environment strings (fixtures/scenarios/hostile.json): the
/// demo itself stays realistic.
fn hostile_report(dir: &Path) -> (PathBuf, Value) {
    report_with(dir, &["evaluate", "fixtures/scenarios/hostile.json"])
}

fn report_with(dir: &Path, args: &[&str]) -> (PathBuf, Value) {
    std::fs::create_dir_all(dir).unwrap();
    let out = dir.join("demo");
    let status = Command::new(env!("CARGO_BIN_EXE_readyscan"))
        .args(args)
        .args(["-q", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "the demo environment is not ready");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    (out.join("report.html"), json)
}

struct Run {
    stdout: String,
    /// Console messages Chromium logged (each page console message, CSP violations included).
    console: Vec<String>,
    /// URL requests made by the page (its frame is file://), from the network log.
    page_requests: Vec<String>,
}

/// Runs headless Chromium on `page` with a fresh profile, bounded in time.
fn chromium(dir: &Path, tag: &str, page: &Path, action: &[String]) -> Run {
    let profile = dir.join(format!("profile-{tag}"));
    let netlog = dir.join(format!("netlog-{tag}.json"));
    let mut cmd = Command::new("timeout");
    cmd.args(["--kill-after=5", "90", CHROMIUM])
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--log-net-log={}", netlog.display()))
        // Background services of the browser itself: a dead loopback proxy, no DNS.
        .args([
            "--proxy-server=127.0.0.1:9",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ])
        .args(action)
        .arg(format!("file://{}", page.display()));
    let out = cmd.output().expect("run chromium");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "chromium {tag} exited {:?}: {stderr}",
        out.status
    );
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&netlog).unwrap_or_default())
        .unwrap_or_else(|e| panic!("network log {}: {e}", netlog.display()));
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    assert!(start_job.is_number(), "network log has no event type table");
    let starts: Vec<&Value> = log["events"]
        .as_array()
        .expect("network log events")
        .iter()
        .filter(|e| e["type"] == start_job)
        .collect();
    let page_requests = starts
        .iter()
        .filter(|e| {
            let p = &e["params"];
            ["network_isolation_key", "site_for_cookies", "initiator"]
                .iter()
                .any(|k| p[k].as_str().is_some_and(|s| s.contains("file://")))
        })
        .map(|e| e["params"]["url"].as_str().unwrap_or_default().to_string())
        .collect();
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).to_string(),
        console,
        page_requests,
    }
}

fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id}"));
    let end = dom[start..].find("</section>").unwrap() + start;
    &dom[start..end]
}

#[test]
fn demo_report_in_chromium() {
    if !tools_present() {
        return;
    }
    let dir = workdir("demo");
    let (page, report) = hostile_report(&dir);
    let findings = report["findings"].as_array().unwrap();

    // The DOM after the page's script ran, and after 3 s of (virtual) time in which a late
    // request or console message would show.
    let run = chromium(
        &dir,
        "dom",
        &page,
        &["--virtual-time-budget=3000".into(), "--dump-dom".into()],
    );
    let dom = &run.stdout;
    assert!(
        run.console.is_empty(),
        "console messages: {:#?}",
        run.console
    );
    assert!(
        run.page_requests.is_empty(),
        "requests left the page: {:?}",
        run.page_requests
    );
    assert!(dom.contains("<h1 id=\"verdict\">"), "no verdict heading");
    let verdict = &dom[dom.find("<h1 id=\"verdict\">").unwrap()..];
    let verdict = &verdict[..verdict.find("</h1>").unwrap()];
    assert!(verdict.ends_with("Not ready"), "verdict: {verdict}");
    // The script was allowed by the CSP hash and ran: it shows the filter buttons.
    assert!(
        dom.contains(
            "<div class=\"filters\" role=\"group\" aria-label=\"Show results by status\">"
        ),
        "the filter buttons are still hidden: the script did not run"
    );

    // Every failed check, on every subject, is in the checklist.
    let checklist = section(dom, "checklist");
    let failed: Vec<&Value> = findings.iter().filter(|f| f["status"] == "fail").collect();
    assert!(!failed.is_empty());
    for f in &failed {
        for key in ["check_id", "subject", "title"] {
            let want = html_text(f[key].as_str().unwrap());
            assert!(checklist.contains(&want), "checklist lacks {key} {want}");
        }
    }

    // A hostile string from the observations is text, not markup.
    let hostile = findings
        .iter()
        .filter_map(|f| f["observed"].as_str())
        .find(|o| o.contains("<script"))
        .expect("the hostile fixture has a hostile observed value");
    assert!(dom.contains(&html_text(hostile)), "escaped text missing");
    assert!(!dom.contains(hostile), "hostile string became markup");
    assert_eq!(dom.matches("<script").count(), 1, "only our own script");

    // What a laptop screen shows.
    let png = dir.join("report.png");
    let run = chromium(
        &dir,
        "png",
        &page,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1280,2000".into(),
            "--hide-scrollbars".into(),
        ],
    );
    assert!(run.console.is_empty(), "console: {:#?}", run.console);
    assert!(run.page_requests.is_empty(), "{:?}", run.page_requests);
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 2000));
    assert!(bytes.len() > 50_000, "screenshot looks empty");

    // Paper: the checklist is in the PDF as text, and sections start on new pages.
    let pdf = dir.join("report.pdf");
    let run = chromium(
        &dir,
        "pdf",
        &page,
        &[
            format!("--print-to-pdf={}", pdf.display()),
            "--no-pdf-header-footer".into(),
        ],
    );
    assert!(run.console.is_empty(), "console: {:#?}", run.console);
    assert!(run.page_requests.is_empty(), "{:?}", run.page_requests);
    let out = Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let pages: Vec<&str> = text.split('\u{c}').collect();
    // pdftotext may break the heading's words over lines.
    assert!(
        squash(pages[0]).contains("Notready"),
        "page 1: {}",
        pages[0]
    );
    assert!(squash(&text).contains("Remediationchecklist"));
    let flat = squash(&text);
    for f in &failed {
        let title = squash(f["title"].as_str().unwrap());
        assert!(flat.contains(&title), "PDF lacks {title}");
    }
    // Table cells wrap long values, so look for the tag itself: printed, it was text.
    let tag = &hostile[hostile.find("<script").unwrap()..];
    let tag = &tag[..=tag.find('>').unwrap()];
    assert!(text.contains(tag), "PDF lacks {tag} as text");
    for heading in ["Not assessed", "All results"] {
        assert!(
            pages.iter().any(|p| p.trim_start().starts_with(heading)),
            "no page starts with {heading}"
        );
    }
    eprintln!(
        "browser artefacts in {} ({} pages)",
        dir.display(),
        pages.len() - 1
    );
}

/// The page is complete without JavaScript, and with it the status filter works.
#[test]
fn filters_work_and_page_is_complete_without_script() {
    if !tools_present() {
        return;
    }
    let dir = workdir("script");
    let (page, report) = demo_report(&dir);
    let total = report["findings"].as_array().unwrap().len();
    let fails = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "fail")
        .count();

    // Without its script (the page's only one): Chromium's --dump-dom itself needs script,
    // so the copy leaves ours out instead of turning script off.
    let html = std::fs::read_to_string(&page).unwrap();
    let start = html.rfind("<script>").unwrap();
    let end = html.rfind("</script>").unwrap() + "</script>".len();
    let copy = dir.join("noscript.html");
    std::fs::write(&copy, format!("{}{}", &html[..start], &html[end..])).unwrap();
    let run = chromium(&dir, "noscript", &copy, &["--dump-dom".into()]);
    let dom = &run.stdout;
    assert!(run.console.is_empty(), "console: {:#?}", run.console);
    assert!(
        dom.contains("<div class=\"filters\" role=\"group\" aria-label=\"Show results by status\" hidden=\"\">"),
        "without script the filter buttons stay hidden"
    );
    assert_eq!(
        dom.matches("<tr data-status=").count(),
        total,
        "every result is a row"
    );
    let hidden_row = regex::Regex::new(r#"<(tr|tbody|details)[^>]* hidden"#).unwrap();
    assert!(
        !hidden_row.is_match(dom),
        "nothing is hidden without script"
    );
    assert_eq!(
        dom.matches("<details open=\"\"").count(),
        dom.matches("<details").count()
    );

    // Click "Fail" from a test copy whose CSP also allows the test's own inline script.
    let click = "document.querySelector('[data-filter=\"fail\"]').click();";
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(click.as_bytes()));
    let clicked = html
        .replacen(
            "script-src &#x27;sha256-",
            &format!("script-src &#x27;sha256-{hash}&#x27; &#x27;sha256-"),
            1,
        )
        .replacen("</body>", &format!("<script>{click}</script></body>"), 1);
    let copy = dir.join("clicked.html");
    std::fs::write(&copy, clicked).unwrap();
    let run = chromium(&dir, "click", &copy, &["--dump-dom".into()]);
    let dom = &run.stdout;
    assert!(run.console.is_empty(), "console: {:#?}", run.console);
    assert!(dom.contains("data-filter=\"fail\" aria-pressed=\"true\""));
    assert!(dom.contains("data-filter=\"all\" aria-pressed=\"false\""));
    let shown = dom.matches("<tr data-status=\"fail\">").count();
    let hidden = dom.matches("\" hidden=\"\">").count();
    assert_eq!(shown, fails, "every failed row stays visible");
    assert_eq!(
        dom.matches("<tr data-status=").count() - shown,
        total - fails,
        "the other rows exist"
    );
    assert!(
        !dom.contains("<tr data-status=\"pass\">"),
        "a passed row is still visible"
    );
    assert!(hidden >= total - fails, "rows and empty groups are hidden");
}

/// A copy of `html` that clicks the filter `status` once loaded (the CSP allows that script too).
fn clicking(html: &str, status: &str) -> String {
    let click = format!("document.querySelector('[data-filter=\"{status}\"]').click();");
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(click.as_bytes()));
    html.replacen(
        "script-src &#x27;sha256-",
        &format!("script-src &#x27;sha256-{hash}&#x27; &#x27;sha256-"),
        1,
    )
    .replacen("</body>", &format!("<script>{click}</script></body>"), 1)
}

/// 100,000 findings (scripts/synthetic-findings.py): "All results" summarizes the big checks
/// per status and checklist items list 200 subjects, so the page stays small (a few MB),
/// loads, and its filters still work.
#[test]
fn a_large_report_is_summarized_and_filters_work() {
    if !tools_present() {
        return;
    }
    let dir = workdir("large");
    let obs = Command::new("python3")
        .arg("scripts/synthetic-findings.py")
        .arg("100000")
        .output()
        .expect("python3 runs");
    assert!(obs.status.success());
    std::fs::write(dir.join("obs.json"), &obs.stdout).unwrap();
    let obs_path = dir.join("obs.json");
    let (page, report) = report_with(&dir, &["evaluate", obs_path.to_str().unwrap()]);
    let total = report["findings"].as_array().unwrap().len();
    assert!(total > 100_000, "{total} findings");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("checks with more than 20 results show one row per status"));
    assert!(html.len() < 8 << 20, "{} bytes", html.len());
    assert!(html.contains(" more subjects: every one is in checklist.csv"));
    let rows = html.matches("<tr data-status=").count();
    assert!(rows < 2_000, "{rows} rows for {total} findings");

    let copy = dir.join("clicked.html");
    std::fs::write(&copy, clicking(&html, "fail")).unwrap();
    let run = chromium(&dir, "large", &copy, &["--dump-dom".into()]);
    let dom = &run.stdout;
    assert!(run.console.is_empty(), "console: {:#?}", run.console);
    assert!(dom.contains("data-filter=\"fail\" aria-pressed=\"true\""));
    let fail_summary = regex::Regex::new(
        r#"<tr data-status="fail" class="summary-row"><td>.*?</td><td class="subject">(\d+) subjects</td>"#,
    )
    .unwrap();
    let failed: usize = fail_summary
        .captures_iter(dom)
        .map(|c| c[1].parse::<usize>().unwrap())
        .sum();
    assert!(
        failed > 10_000,
        "the port check's failed subjects are summed: {failed}"
    );
    assert!(
        !regex::Regex::new(r#"<tr data-status="pass"( class="summary-row")?>"#)
            .unwrap()
            .is_match(dom),
        "a passed row is still visible"
    );
}

/// Proves the detectors are not blind: a planted image is blocked by the CSP (and logged),
/// and without the CSP the same image shows up in the network log and at a loopback listener.
#[test]
fn detectors_see_a_planted_request() {
    if !tools_present() {
        return;
    }
    let dir = workdir("control");
    let (page, _) = demo_report(&dir);
    let html = std::fs::read_to_string(&page).unwrap();
    // A loopback server that answers 404 and counts who came; it lives as long as the test.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/planted.png", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for mut conn in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = conn.read(&mut [0u8; 4096]);
            let _ = conn.write_all(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let planted = html.replacen("<main>", &format!("<main><img src=\"{url}\" alt=\"\">"), 1);
    let accepted = |_: ()| hits.load(Ordering::SeqCst);

    let with_csp = dir.join("with-csp.html");
    std::fs::write(&with_csp, &planted).unwrap();
    let run = chromium(&dir, "csp", &with_csp, &["--dump-dom".into()]);
    assert!(run.page_requests.is_empty(), "{:?}", run.page_requests);
    assert!(
        run.console
            .iter()
            .any(|l| l.contains("Content Security Policy") && l.contains("planted.png")),
        "the CSP violation was not logged: {:#?}",
        run.console
    );
    assert_eq!(accepted(()), 0, "the CSP let the image through");

    let csp_start = planted
        .find("<meta http-equiv=\"Content-Security-Policy\"")
        .unwrap();
    let csp_end = planted[csp_start..].find('>').unwrap() + csp_start + 1;
    let without = format!("{}{}", &planted[..csp_start], &planted[csp_end..]);
    let no_csp = dir.join("without-csp.html");
    std::fs::write(&no_csp, without).unwrap();
    let run = chromium(&dir, "nocsp", &no_csp, &["--dump-dom".into()]);
    assert!(
        run.page_requests.iter().any(|u| u == &url),
        "the network log missed the planted request: {:?}",
        run.page_requests
    );
    assert!(accepted(()) > 0, "the listener saw no connection");
}

/// Nothing in a table cell runs into the next column (change and exception badges, long
/// titles and values), measured by the browser at a laptop's width and a narrow window.
#[test]
fn badges_and_titles_stay_in_their_cells() {
    if !tools_present() {
        return;
    }
    let dir = workdir("layout");
    let exceptions = dir.join("exceptions.toml");
    std::fs::write(
        &exceptions,
        "[[exception]]\ncheck = \"net-dc-ports-ldaps\"\nsubject = \"*:636\"\n\
         justification = \"No client uses LDAPS from this network\"\napprover = \"Network team\"\n\
         expires = 2099-01-01T00:00:00Z\n\n[[exception]]\ncheck = \"dns-intune-enrollment-cname\"\n\
         justification = \"Public zone owned by the parent company\"\napprover = \"J. Doe\"\n\
         expires = 2020-01-01T00:00:00Z\n",
    )
    .unwrap();
    let exceptions = exceptions.display().to_string();
    let pages = [
        report_with(
            &dir.join("demo"),
            &["scan", "--demo", "--exceptions", &exceptions],
        )
        .0,
        hostile_report(&dir.join("hostile")).0,
    ];
    // Every element inside a table cell must end within its cell.
    let measure =
        "(function(){var out=[];document.querySelectorAll('td *, th *').forEach(function(el){\
var cell=el.closest('td,th');if(!cell||el.offsetParent===null)return;\
var r=el.getBoundingClientRect(),c=cell.getBoundingClientRect();\
if(r.width>0&&(r.right>c.right+1||r.left<c.left-1)){out.push((el.className||el.tagName)+': '+\
(el.textContent||'').slice(0,40)+' by '+Math.round(r.right-c.right)+'px');}});\
document.body.setAttribute('data-overlaps',out.length?out.join(' | '):'none');})();";
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(measure.as_bytes()));
    let overlaps = regex::Regex::new(r#"data-overlaps="([^"]*)""#).unwrap();
    for page in pages {
        let html = std::fs::read_to_string(&page).unwrap();
        let copy = page.with_file_name("measured.html");
        let measured = html
            .replacen(
                "script-src &#x27;sha256-",
                &format!("script-src &#x27;sha256-{hash}&#x27; &#x27;sha256-"),
                1,
            )
            .replacen("</body>", &format!("<script>{measure}</script></body>"), 1);
        std::fs::write(&copy, measured).unwrap();
        for width in [1280, 800] {
            let tag = format!("layout-{width}");
            let run = chromium(
                page.parent().unwrap(),
                &tag,
                &copy,
                &[format!("--window-size={width},2000"), "--dump-dom".into()],
            );
            assert!(run.console.is_empty(), "console: {:#?}", run.console);
            let found = overlaps
                .captures(&run.stdout)
                .map(|c| c[1].to_string())
                .expect("the measuring script ran");
            assert_eq!(found, "none", "{} at {width} px", page.display());
        }
    }
}
