//! The CSV time-export reader with every preset (Harvest, Toggl, the generic mapping by
//! aliases, a German spreadsheet's re-save) and any delimiter, read by the blocking and the async
//! reader: never a panic, and both readers give the same rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use odoo_connect_canonical::Role;
use odoo_connect_connectors::timesheet_csv::{AsyncCsvRows, CsvRows, Row, TimeExport};

/// Rows read at most per input (a fuzzed file is small; this bounds a reader that would loop).
const MAX_ROWS: usize = 10_000;

fn config(selector: u8, delimiter: u8) -> TimeExport {
    match selector % 6 {
        0 => TimeExport::harvest(),
        1 => TimeExport::toggl(),
        2 => TimeExport::new("psa"),
        3 => TimeExport::new("psa").delimiter(b';').decimal_comma(true),
        4 => TimeExport::harvest().delimiter(b';').decimal_comma(true),
        _ => {
            let mut c = TimeExport::new("psa").delimiter(delimiter);
            if selector & 0x10 != 0 {
                c = c.decimal_comma(true);
            }
            if selector & 0x20 != 0 {
                if let Ok(role) = Role::new("consultant") {
                    c = c.default_role(role);
                }
            }
            c
        }
    }
}

fn blocking(body: &[u8], config: TimeExport) -> Result<Vec<Result<Row, String>>, String> {
    let rows = CsvRows::new(body, config).map_err(|e| e.to_string())?;
    Ok(rows
        .take(MAX_ROWS)
        .map(|r| r.map_err(|e| e.to_string()))
        .collect())
}

fn non_blocking(body: &[u8], config: TimeExport) -> Result<Vec<Result<Row, String>>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let mut rows = AsyncCsvRows::new(body, config)
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().await {
            out.push(row.map_err(|e| e.to_string()));
            if out.len() == MAX_ROWS {
                break;
            }
        }
        Ok(out)
    })
}

fuzz_target!(|data: &[u8]| {
    let [selector, delimiter, body @ ..] = data else {
        return;
    };
    let a = blocking(body, config(*selector, *delimiter));
    let b = non_blocking(body, config(*selector, *delimiter));
    assert_eq!(a, b, "the blocking and the async reader disagree");
});
