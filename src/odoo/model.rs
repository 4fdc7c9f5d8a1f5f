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
/// ```
/// use odoo_connect::odoo::{Model, ServerVersion, value::opt};
/// #[derive(Debug, serde::Deserialize)]
/// struct Country {
///     id: i64,
///     name: String,
///     #[serde(default, with = "opt")]
///     code: Option<String>,
/// }
/// impl Model for Country {
///     const MODEL: &'static str = "res.country";
///     fn fields(_version: &ServerVersion) -> Vec<&'static str> {
///         vec!["id", "name", "code"]
///     }
/// }
/// assert_eq!(Country::MODEL, "res.country");
/// ```
pub trait Model: DeserializeOwned + Send + Sync + Unpin + 'static {
    /// The technical model name (`res.partner`).
    const MODEL: &'static str;

    /// The fields to read on a server of this version (must include `id` for streaming).
    fn fields(version: &ServerVersion) -> Vec<&'static str>;
}
