//! `#[derive(Model)]` on user structs: the model name, the names the fields are read under, their
//! order, the per-version gates, renamed fields, skipped fields and generic structs.

// Most fields are here for the names they are read under, not to be read by the tests.
#![allow(dead_code)]

use odoo_connect_client::value::opt;
use odoo_connect_client::{Many2one, Model, OdooClient, RecordId, ServerVersion};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

fn v(major: u32) -> ServerVersion {
    ServerVersion::new(major, 0)
}

/// The fields of `T` on each Odoo major version from 14 to 20.
fn per_version<T: Model>() -> Vec<(u32, Vec<&'static str>)> {
    (14..=20)
        .map(|major| (major, T::fields(&v(major))))
        .collect()
}

#[derive(Debug, PartialEq, Deserialize, Model)]
#[odoo(model = "res.country")]
struct Country {
    id: RecordId,
    name: String,
    #[serde(default, with = "opt")]
    code: Option<String>,
}

#[test]
fn plain_fields_are_read_under_their_rust_names() {
    assert_eq!(Country::MODEL, "res.country");
    for (major, fields) in per_version::<Country>() {
        assert_eq!(fields, ["id", "name", "code"], "Odoo {major}");
    }
    let c: Country =
        serde_json::from_value(json!({"id": 75, "name": "France", "code": "FR"})).expect("decodes");
    assert_eq!(c.code.as_deref(), Some("FR"));
}

/// The fields are read in the order of the struct, `id` included.
#[derive(Deserialize, Model)]
#[odoo(model = "x.ordered")]
struct Ordered {
    zeta: bool,
    id: RecordId,
    alpha: bool,
    mid: bool,
}

#[test]
fn fields_follow_the_struct_order() {
    assert_eq!(Ordered::fields(&v(19)), ["zeta", "id", "alpha", "mid"]);
}

/// Names from serde: `rename`, `rename(deserialize = ...)`, raw identifiers; `#[odoo(name)]`
/// wins over all of them.
#[derive(Debug, Deserialize, Model)]
#[odoo(model = "res.partner")]
struct Contact {
    id: RecordId,
    #[serde(default, rename = "lang", with = "opt")]
    language: Option<String>,
    #[serde(
        default,
        rename(deserialize = "ref", serialize = "reference"),
        with = "opt"
    )]
    reference: Option<String>,
    #[serde(default, with = "opt")]
    r#type: Option<String>,
    #[odoo(name = "street")]
    #[serde(default, rename = "street", with = "opt")]
    first_address_line: Option<String>,
    #[odoo(name = "street2")]
    #[serde(default, with = "opt")]
    street_2: Option<String>,
}

#[test]
fn names_come_from_serde_unless_given() {
    assert_eq!(
        Contact::fields(&v(18)),
        ["id", "lang", "ref", "type", "street", "street2"]
    );
    let c: Contact = serde_json::from_value(json!({
        "id": 7, "lang": "fr_FR", "ref": "C-7", "type": "invoice", "street": "1 Main St",
    }))
    .expect("decodes");
    assert_eq!(c.language.as_deref(), Some("fr_FR"));
    assert_eq!(c.reference.as_deref(), Some("C-7"));
    assert_eq!(c.r#type.as_deref(), Some("invoice"));
    assert_eq!(c.first_address_line.as_deref(), Some("1 Main St"));
    // `name` names the Odoo field only: decoding it is serde's business.
    assert_eq!(c.street_2, None);
}

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "x.gated")]
struct Gated {
    id: RecordId,
    #[odoo(since = 17)]
    #[serde(default)]
    from_17: bool,
    #[odoo(until = 18)]
    #[serde(default, with = "opt")]
    to_18: Option<String>,
    #[odoo(since = 16, until = 18)]
    #[serde(default)]
    from_16_to_18: bool,
    #[odoo(since = 19, until = 19)]
    #[serde(default)]
    only_19: bool,
    #[serde(default)]
    always: bool,
}

#[test]
fn since_and_until_are_inclusive() {
    let expected: [&[&str]; 7] = [
        &["id", "to_18", "always"],                             // 14
        &["id", "to_18", "always"],                             // 15
        &["id", "to_18", "from_16_to_18", "always"],            // 16
        &["id", "from_17", "to_18", "from_16_to_18", "always"], // 17
        &["id", "from_17", "to_18", "from_16_to_18", "always"], // 18
        &["id", "from_17", "only_19", "always"],                // 19
        &["id", "from_17", "always"],                           // 20
    ];
    for ((major, fields), expected) in per_version::<Gated>().into_iter().zip(expected) {
        assert_eq!(fields, expected, "Odoo {major}");
    }
    // Online releases count as their major version.
    assert_eq!(
        Gated::fields(&ServerVersion::new(18, 4)),
        Gated::fields(&v(18))
    );
}

/// A field renamed in 19 (`product_uom` to `product_uom_id`), and one renamed in 17 and then
/// dropped after 18.
#[derive(Debug, PartialEq, Deserialize, Model)]
#[odoo(model = "sale.order.line")]
struct Line {
    id: RecordId,
    #[odoo(since = 19, formerly = "product_uom")]
    #[serde(default, alias = "product_uom", with = "opt")]
    product_uom_id: Option<Many2one>,
    #[odoo(since = 17, until = 18, formerly = "planned_hours")]
    #[serde(default, alias = "other_alias", alias = "planned_hours")]
    allocated_hours: f64,
    #[serde(default)]
    price_unit: f64,
}

#[test]
fn formerly_asks_older_versions_for_the_old_name() {
    assert_eq!(
        Line::fields(&v(16)),
        ["id", "product_uom", "planned_hours", "price_unit"]
    );
    assert_eq!(
        Line::fields(&v(18)),
        ["id", "product_uom", "allocated_hours", "price_unit"]
    );
    assert_eq!(Line::fields(&v(19)), ["id", "product_uom_id", "price_unit"]);
    assert_eq!(Line::fields(&v(20)), ["id", "product_uom_id", "price_unit"]);
}

#[test]
fn both_names_decode_into_one_field() {
    let new: Line = serde_json::from_value(json!({
        "id": 8, "product_uom_id": [4, "Hours"], "allocated_hours": 2.5, "price_unit": 75.0,
    }))
    .expect("decodes");
    let old: Line = serde_json::from_value(json!({
        "id": 8, "product_uom": [4, "Hours"], "planned_hours": 2.5, "price_unit": 75.0,
    }))
    .expect("decodes");
    assert_eq!(new, old);
    assert_eq!(old.product_uom_id.map(|m| m.id), Some(RecordId(4)));
}

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "res.partner")]
struct Annotated {
    id: RecordId,
    #[serde(default, with = "opt")]
    name: Option<String>,
    /// Set by the application after reading.
    #[odoo(skip)]
    #[serde(default)]
    score: u32,
    #[odoo(skip)]
    #[serde(skip)]
    cache: Vec<String>,
}

#[test]
fn skipped_fields_are_not_read() {
    for (major, fields) in per_version::<Annotated>() {
        assert_eq!(fields, ["id", "name"], "Odoo {major}");
    }
    let a: Annotated =
        serde_json::from_value(json!({"id": 1, "name": "Azure Interior"})).expect("decodes");
    assert_eq!((a.score, a.cache.len()), (0, 0));
}

/// Generic structs: type parameters (with the bounds `Model` needs), const parameters and where
/// clauses are carried over to the impl. (`bound = ""` keeps serde from adding
/// `X: Deserialize<'de>` next to `DeserializeOwned`, which the compiler finds ambiguous.)
#[derive(Debug, Deserialize, Model)]
#[odoo(model = "project.task")]
#[serde(bound = "")]
struct Tagged<X: DeserializeOwned + Send + Sync + Unpin + 'static> {
    id: RecordId,
    #[serde(default)]
    name: String,
    #[odoo(name = "x_extra", since = 18)]
    #[serde(default = "Option::default")]
    x_extra: Option<X>,
}

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "project.task")]
#[serde(bound = "")]
struct WithConst<const N: usize, X>
where
    X: DeserializeOwned + Send + Sync + Unpin + 'static,
{
    id: RecordId,
    #[serde(default = "Vec::new")]
    tags: Vec<X>,
}

#[test]
fn generic_structs() {
    assert_eq!(<Tagged<String> as Model>::MODEL, "project.task");
    assert_eq!(Tagged::<String>::fields(&v(17)), ["id", "name"]);
    assert_eq!(Tagged::<u64>::fields(&v(18)), ["id", "name", "x_extra"]);
    let t: Tagged<u64> =
        serde_json::from_value(json!({"id": 3, "name": "Noise", "x_extra": 12})).expect("decodes");
    assert_eq!(t.x_extra, Some(12));
    assert_eq!(WithConst::<3, i64>::fields(&v(19)), ["id", "tags"]);
    let w: WithConst<3, i64> =
        serde_json::from_value(json!({"id": 3, "tags": [1, 2]})).expect("decodes");
    assert_eq!(w.tags, [1, 2]);
}

/// The derive needs no import of its own: named by path, and with the crate path given.
mod by_path {
    #[derive(serde::Deserialize, odoo_connect_client::Model)]
    #[odoo(model = "res.currency", crate = "odoo_connect_client")]
    pub(super) struct Currency {
        pub(super) id: odoo_connect_client::RecordId,
        #[serde(default)]
        pub(super) name: String,
    }
}

#[test]
fn derive_by_path_with_an_explicit_crate() {
    use by_path::Currency;
    assert_eq!(Currency::MODEL, "res.currency");
    assert_eq!(Currency::fields(&v(19)), ["id", "name"]);
    let c: Currency = serde_json::from_value(json!({"id": 1, "name": "USD"})).expect("decodes");
    assert_eq!((c.id, c.name.as_str()), (RecordId(1), "USD"));
}

/// Derived types are models for the client: a typed handle takes them.
#[test]
fn derived_types_give_typed_handles() {
    fn handles(odoo: &OdooClient) {
        let _countries = odoo.model::<Country>();
        let _lines = odoo.model::<Line>();
        let _tasks = odoo.model::<Tagged<serde_json::Value>>();
    }
    let _ = handles;
}
