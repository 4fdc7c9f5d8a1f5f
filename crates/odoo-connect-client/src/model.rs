//! The [`Model`] trait: a Rust type that stands for an Odoo model.

use serde::de::DeserializeOwned;

use super::version::ServerVersion;

/// A Rust type for the records of an Odoo model.
///
/// `odoo.model::<T>()` gives a handle with every ORM operation typed by `T`. The fields read are
/// the ones [`Model::fields`] names for the server's version, so a field that an older or newer
/// Odoo lacks is never asked for; decode such fields as `Option` with `#[serde(default)]` so a
/// missing one is `None`, never a decode failure.
///
/// # Deriving it
/// `#[derive(Model)]` (the derive macro shares the trait's name, as serde's do) writes the impl
/// from a struct that also derives `serde::Deserialize`: each field is read under its Odoo name,
/// in the order of the struct.
///
/// ```
/// use odoo_connect_client::{Model, RecordId, ServerVersion, value::opt};
///
/// #[derive(Debug, serde::Deserialize, Model)]
/// #[odoo(model = "res.country")]
/// struct Country {
///     id: RecordId,
///     name: String,
///     #[serde(default, with = "opt")]
///     code: Option<String>,
///     /// A custom field the database got with its upgrade to 17: not asked of older versions.
///     #[odoo(since = 17)]
///     #[serde(default, with = "opt")]
///     x_region: Option<String>,
/// }
///
/// assert_eq!(Country::MODEL, "res.country");
/// assert_eq!(Country::fields(&ServerVersion::new(16, 0)), ["id", "name", "code"]);
/// assert_eq!(
///     Country::fields(&ServerVersion::new(17, 0)),
///     ["id", "name", "code", "x_region"]
/// );
/// let fr: Country = serde_json::from_str(r#"{"id": 75, "name": "France", "code": "FR"}"#).unwrap();
/// assert_eq!(fr.x_region, None);
/// ```
///
/// On the struct, `#[odoo(model = "...")]` names the model (required), and
/// `#[odoo(crate = "...")]` says where this crate is when the derive cannot find it (it looks for
/// `odoo-connect-client`, then for `odoo-connect`, among the dependencies). On a field:
///
/// - `#[odoo(name = "...")]`: the Odoo field name; by default the field's
///   `#[serde(rename = "...")]`, else its Rust name (`r#type` is read as `type`).
/// - `#[odoo(since = N)]`, `#[odoo(until = N)]`: the first and the last Odoo major versions that
///   have the field; other versions are not asked for it.
/// - `#[odoo(formerly = "...")]`, with `since`: the name the field had before Odoo `since`
///   renamed it, asked of the older versions. The field must also carry
///   `#[serde(alias = "...")]` of that name, so that both decode into it; without it the derive
///   fails to compile.
/// - `#[odoo(skip)]`: a field that is not read from Odoo (give it a `#[serde(default)]`).
///
/// The derive refuses a struct with no field read as `id` (the field `id`, or another one with
/// `#[odoo(name = "id")]`): streaming and paging need the id. A generic struct works when its
/// type parameters have the bounds of this trait (`DeserializeOwned + Send + Sync + Unpin +
/// 'static`).
///
/// ```
/// use odoo_connect_client::{Model, RecordId, ServerVersion};
///
/// #[derive(serde::Deserialize, Model)]
/// #[odoo(model = "sale.order.line")]
/// struct Line {
///     id: RecordId,
///     /// `tax_ids` from Odoo 19, `tax_id` up to 18.
///     #[odoo(since = 19, formerly = "tax_id")]
///     #[serde(default, alias = "tax_id")]
///     tax_ids: Vec<i64>,
///     #[serde(default, rename = "price_unit")]
///     unit_price: f64,
///     /// Filled in by the application, not by Odoo.
///     #[odoo(skip)]
///     #[serde(default)]
///     checked: bool,
/// }
///
/// assert_eq!(Line::fields(&ServerVersion::new(18, 0)), ["id", "tax_id", "price_unit"]);
/// assert_eq!(Line::fields(&ServerVersion::new(19, 0)), ["id", "tax_ids", "price_unit"]);
/// let old: Line = serde_json::from_str(r#"{"id": 8, "tax_id": [3], "price_unit": 75.0}"#).unwrap();
/// assert_eq!(old.tax_ids, [3]);
/// ```
///
/// # Writing it by hand
/// A hand-written impl works too, for a field list computed some other way;
/// [`FieldSpec::select`] picks the fields of a version from a list of [`FieldSpec`]s.
///
/// ```
/// use odoo_connect_client::{Model, RecordId, ServerVersion};
/// #[derive(serde::Deserialize)]
/// struct Country {
///     id: RecordId,
///     name: String,
/// }
/// impl Model for Country {
///     const MODEL: &'static str = "res.country";
///     fn fields(_version: &ServerVersion) -> Vec<&'static str> {
///         vec!["id", "name"]
///     }
/// }
/// assert_eq!(Country::fields(&ServerVersion::new(19, 0)), ["id", "name"]);
/// ```
pub trait Model: DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The technical model name (`res.partner`).
    const MODEL: &'static str;

    /// The fields to read on a server of this version (must include `id` for streaming).
    fn fields(version: &ServerVersion) -> Vec<&'static str>;
}

/// A field a [`Model`] reads, with the Odoo major versions that have it (both ends included).
///
/// `#[derive(Model)]` builds these from the struct; a hand-written [`Model::fields`] can use
/// them too.
///
/// ```
/// use odoo_connect_client::{ServerVersion, model::FieldSpec};
/// const FIELDS: &[FieldSpec] = &[
///     FieldSpec::all("id"),
///     FieldSpec::since(19, "tax_ids"),
///     FieldSpec::until(18, "tax_id"),
/// ];
/// assert_eq!(FieldSpec::select(FIELDS, &ServerVersion::new(19, 0)), ["id", "tax_ids"]);
/// assert_eq!(FieldSpec::select(FIELDS, &ServerVersion::new(17, 0)), ["id", "tax_id"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldSpec {
    name: &'static str,
    since: u32,
    until: u32,
}

impl FieldSpec {
    /// A field the Odoo major versions `since..=until` have.
    pub const fn new(name: &'static str, since: u32, until: u32) -> Self {
        FieldSpec { name, since, until }
    }

    /// A field every supported version has.
    pub const fn all(name: &'static str) -> Self {
        FieldSpec::new(name, 0, u32::MAX)
    }

    /// A field that appeared in `major`.
    pub const fn since(major: u32, name: &'static str) -> Self {
        FieldSpec::new(name, major, u32::MAX)
    }

    /// A field that was removed or renamed after `major` (the last version that has it).
    pub const fn until(major: u32, name: &'static str) -> Self {
        FieldSpec::new(name, 0, major)
    }

    /// The field's technical name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// Whether a server of this version has the field.
    pub fn applies(&self, version: &ServerVersion) -> bool {
        (self.since..=self.until).contains(&version.major)
    }

    /// The names of the fields a server of this version has, in the order given.
    pub fn select(fields: &[FieldSpec], version: &ServerVersion) -> Vec<&'static str> {
        fields
            .iter()
            .filter(|f| f.applies(version))
            .map(|f| f.name)
            .collect()
    }
}
