//! Keeps `docs/schema/` in step with the canonical types.
//!
//! Each canonical document's JSON Schema is generated and compared with `docs/schema/<name>.json`.
//! After a deliberate change to the JSON form, rewrite the files with
//! `UPDATE_SCHEMA=1 cargo test --test canonical_schema` and review the diff.

use std::path::PathBuf;

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join("schema")
}

fn render(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    text
}

#[test]
fn docs_schema_matches_the_code() {
    let update = std::env::var_os("UPDATE_SCHEMA").is_some_and(|v| v == "1");
    let dir = schema_dir();
    let schemas = odoo_connect::canonical::json_schemas();
    let mut stale = Vec::new();
    for (name, schema) in &schemas {
        let path = dir.join(format!("{name}.json"));
        let want = render(schema);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(have) if have == want => {}
            _ => stale.push(path.display().to_string()),
        }
    }
    // No file is left over from a type that was removed or renamed.
    let expected: Vec<String> = schemas.iter().map(|(n, _)| format!("{n}.json")).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if file.ends_with(".json") && !expected.contains(&file) {
            if update {
                std::fs::remove_file(dir.join(&file)).unwrap();
            } else {
                stale.push(format!("{file} (no such type)"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "docs/schema is out of step with the code: {stale:?}\nrun `UPDATE_SCHEMA=1 cargo test --test canonical_schema` and review the diff"
    );
}

#[test]
fn schemas_describe_the_documented_form() {
    let schemas: std::collections::BTreeMap<_, _> = odoo_connect::canonical::json_schemas()
        .into_iter()
        .collect();
    let contract = &schemas["contract"];
    assert_eq!(contract["title"], "Contract");
    let required = contract["required"].as_array().unwrap();
    assert!(required.contains(&serde_json::json!("schema_version")));
    assert_eq!(
        contract["properties"]["schema_version"]["$ref"],
        "#/$defs/SchemaVersion"
    );
    assert_eq!(contract["$defs"]["SchemaVersion"]["const"], 1);
    // Amounts are written as strings.
    assert_eq!(schemas["money"]["properties"]["amount"]["type"], "string");
    let text = serde_json::to_string(contract).unwrap();
    for kind in [
        "fixed_fee_milestones",
        "time_and_materials",
        "retainer",
        "pass_through_expenses",
        "recurring_service",
    ] {
        assert!(text.contains(kind), "{kind}");
    }
}
