//! Marks the PostgreSQL tests as ignored, with the reason, when `DATABASE_URL` is not set, the
//! real-Odoo suite when `ODOO_URL` is not set, and
//! the headless-browser test when no Chromium is found, so the test runner's summary shows them
//! as skipped rather than passed.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_database)");
    println!("cargo::rerun-if-env-changed=DATABASE_URL");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("DATABASE_URL").map_or(true, |url| url.trim().is_empty()) {
        println!("cargo::rustc-cfg=no_database");
    }
    // The real-Odoo suite (`tests/real_odoo_*.rs`) needs a running Odoo: without `ODOO_URL`
    // its tests are reported as ignored, like the PostgreSQL ones.
    println!("cargo::rustc-check-cfg=cfg(no_odoo)");
    println!("cargo::rerun-if-env-changed=ODOO_URL");
    if std::env::var("ODOO_URL").map_or(true, |url| url.trim().is_empty()) {
        println!("cargo::rustc-cfg=no_odoo");
    }
    chromium();
}

/// Finds Chromium (`CHROMIUM`, else the usual paths, else `chromium`, `chromium-browser` or
/// `google-chrome` on the `PATH`, as `which` would): the test gets its path in
/// `OPS_REPORT_CHROMIUM`, or the `no_chromium` cfg when there is none.
fn chromium() {
    use std::path::{Path, PathBuf};
    println!("cargo::rustc-check-cfg=cfg(no_chromium)");
    println!("cargo::rerun-if-env-changed=CHROMIUM");
    // Installing a browser adds to /usr/bin: look again then.
    if Path::new("/usr/bin").is_dir() {
        println!("cargo::rerun-if-changed=/usr/bin");
    }
    let names = ["chromium", "chromium-browser", "google-chrome"];
    let from_env = std::env::var_os("CHROMIUM")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let found = from_env.or_else(|| {
        names
            .iter()
            .map(|n| Path::new("/usr/bin").join(n))
            .chain(std::env::var_os("PATH").into_iter().flat_map(|paths| {
                std::env::split_paths(&paths)
                    .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
                    .collect::<Vec<_>>()
            }))
            .find(|p| p.is_file())
    });
    match found.filter(|p| p.is_file()) {
        Some(path) => println!("cargo::rustc-env=OPS_REPORT_CHROMIUM={}", path.display()),
        None => println!("cargo::rustc-cfg=no_chromium"),
    }
}
