//! The operations report's HTML page in a real browser: headless Chromium loads the page of a
//! populated report, and its DOM must hold every section and non-empty charts. Screenshots at
//! desktop and phone width are kept under `target/ops-report/` (CI artifacts).
//!
//! Ignored, with the reason, when build.rs found no Chromium (install Debian's `chromium`, or set
//! `CHROMIUM` to a Chromium or Chrome binary).

#[path = "../examples/data/demo.rs"]
mod demo;
#[path = "../examples/data/fake_hubspot.rs"]
mod fake_hubspot;
#[path = "../examples/data/flows_setup.rs"]
mod flows_setup;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use odoo_connect::ops::{CollectOptions, collect};

/// Every section id of the page.
const SECTION_IDS: [&str; 9] = [
    "stuck-contracts",
    "unbilled",
    "failed-releases",
    "overdue-invoices",
    "unmatched-credits",
    "revenue-mismatches",
    "dead-letters",
    "sync",
    "traces",
];

/// How long Chromium may take for one page before it is killed and the test fails.
const CHROMIUM_TIMEOUT: Duration = Duration::from_secs(60);

/// The folder kept for CI: `target/ops-report`.
fn out_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let target = tmp
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("ops-report")
}

/// The browser build.rs found, or `CHROMIUM` at run time.
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| option_env!("OPS_REPORT_CHROMIUM").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"))
}

/// Runs headless Chromium on `page` with `extra` arguments; kills it after [`CHROMIUM_TIMEOUT`].
/// Returns its standard output.
fn headless(page: &Path, extra: &[String]) -> String {
    let profile = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "chromium-profile-{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    ));
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", chromium().display()));
    // Read both pipes on threads so a full pipe never blocks the browser.
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + CHROMIUM_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                panic!(
                    "Chromium did not finish within {CHROMIUM_TIMEOUT:?} ({extra:?}); killed.\nstderr: {}",
                    err.join().unwrap_or_default()
                );
            }
            Err(e) => panic!("cannot wait for Chromium: {e}"),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(
        status.success(),
        "Chromium failed ({status}) with {extra:?}:\n{stderr}"
    );
    stdout
}

/// The opening tag and content of every `<svg>` whose class list has `class`.
fn svgs_of_class<'a>(dom: &'a str, class: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut rest = dom;
    while let Some(start) = rest.find("<svg") {
        let tail = &rest[start..];
        let end = tail
            .find("</svg>")
            .map_or(tail.len(), |e| e + "</svg>".len());
        let svg = &tail[..end];
        let open = &svg[..svg.find('>').unwrap_or(svg.len())];
        if attr(open, "class").is_some_and(|c| c.split_whitespace().any(|c| c == class)) {
            found.push(svg);
        }
        rest = &tail[end..];
    }
    found
}

/// The value of attribute `name` in an opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let len = tag[at..].find('"')?;
    Some(&tag[at..at + len])
}

/// The opening tags of the `<element` elements in `svg`.
fn tags<'a>(svg: &'a str, element: &str) -> Vec<&'a str> {
    let open = format!("<{element}");
    svg.match_indices(&open)
        .filter(|(i, _)| {
            svg[i + open.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_whitespace() || c == '>' || c == '/')
        })
        .map(|(i, _)| {
            let tag = &svg[i..];
            &tag[..tag.find('>').unwrap_or(tag.len())]
        })
        .collect()
}

/// Numbers in an SVG `points` or path `d` attribute.
fn numbers(s: &str) -> usize {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter(|t| t.parse::<f64>().is_ok())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    no_chromium,
    ignore = "skipped: no Chromium found (install Debian's chromium or set CHROMIUM)"
)]
async fn the_page_renders_in_headless_chromium_with_sections_and_charts() {
    // A populated report: the examples' whole contract-to-cash run on the fakes.
    let d = demo::Demo::start_on_fakes("ops-report-browser")
        .await
        .expect("start");
    d.book_deals(false).await.expect("book deals");
    d.bill_time(false).await.expect("bill time");
    d.release_invoices(false).await.expect("release invoices");
    d.collect(false).await.expect("collect payments");
    let now = Utc::now();
    let report = collect(
        d.store.as_ref(),
        None,
        &CollectOptions::new(now.date_naive()).now(now),
    )
    .await
    .expect("collect the report");
    assert!(
        !report.unbilled.is_empty(),
        "the run leaves approved time unbilled: the age chart needs it"
    );

    let dir = out_dir();
    std::fs::create_dir_all(&dir).expect("create target/ops-report");
    let page = dir.join("report.html");
    std::fs::write(&page, report.to_html()).expect("write the page");
    let page = page.canonicalize().expect("absolute path");

    // The DOM as the browser built it.
    let dom = headless(&page, &["--dump-dom".to_owned()]);
    std::fs::write(dir.join("report.dom.html"), &dom).expect("keep the DOM");
    let missing: Vec<&str> = SECTION_IDS
        .iter()
        .copied()
        .filter(|id| !dom.contains(&format!("id=\"{id}\"")))
        .collect();
    assert!(
        missing.is_empty(),
        "sections missing from the DOM: {missing:?}"
    );

    let age = svgs_of_class(&dom, "chart-age");
    assert_eq!(age.len(), 1, "one age bar chart (svg.chart-age)");
    let bars = tags(age[0], "rect")
        .into_iter()
        .filter(|r| {
            attr(r, "height")
                .and_then(|h| h.trim_end_matches("px").parse::<f64>().ok())
                .is_some_and(|h| h > 0.0)
        })
        .count();
    assert!(
        bars >= 1,
        "the age chart has no bar of non-zero height:\n{}",
        age[0]
    );

    let sync = svgs_of_class(&dom, "chart-sync");
    assert_eq!(sync.len(), 1, "one sync line chart (svg.chart-sync)");
    let line_points = tags(sync[0], "polyline")
        .into_iter()
        .filter_map(|p| attr(p, "points"))
        .chain(
            tags(sync[0], "path")
                .into_iter()
                .filter_map(|p| attr(p, "d")),
        )
        .map(numbers)
        .max()
        .unwrap_or(0);
    assert!(
        line_points >= 4,
        "the sync chart has no line with two points or more:\n{}",
        sync[0]
    );

    // Screenshots at desktop and phone width, kept as CI artifacts.
    for (file, size) in [
        ("report.png", "1280,2400"),
        ("report-phone.png", "390,2400"),
    ] {
        let png = dir.join(file);
        let _ = std::fs::remove_file(&png);
        headless(
            &page,
            &[
                format!("--screenshot={}", png.display()),
                format!("--window-size={size}"),
            ],
        );
        let bytes = std::fs::metadata(&png)
            .unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()))
            .len();
        assert!(
            bytes > 10 * 1024,
            "the screenshot {} is only {bytes} bytes",
            png.display()
        );
    }
}

/// The DOM checks above find what they look for, and only that.
#[test]
fn the_dom_checks_tell_empty_charts_from_drawn_ones() {
    let dom = r#"<p><svg class="chart chart-age" viewBox="0 0 10 10"><rect x="0" height="0"></rect><rect x="1" height="4.5"></rect></svg>
        <svg class="chart-agex"><rect height="3"></rect></svg>
        <svg class="chart chart-sync"><polyline points=""></polyline><path d="M0,1 L2,3"></path></svg></p>"#;
    let age = svgs_of_class(dom, "chart-age");
    assert_eq!(age.len(), 1);
    let heights: Vec<&str> = tags(age[0], "rect")
        .into_iter()
        .filter_map(|r| attr(r, "height"))
        .collect();
    assert_eq!(heights, ["0", "4.5"]);
    let sync = svgs_of_class(dom, "chart-sync");
    assert_eq!(sync.len(), 1);
    assert_eq!(tags(sync[0], "polyline").len(), 1);
    assert_eq!(
        numbers(attr(tags(sync[0], "polyline")[0], "points").unwrap_or("")),
        0
    );
    assert_eq!(
        numbers(attr(tags(sync[0], "path")[0], "d").unwrap_or("")),
        4
    );
    assert!(svgs_of_class("<svg class=\"chart\"></svg>", "chart-sync").is_empty());
}
