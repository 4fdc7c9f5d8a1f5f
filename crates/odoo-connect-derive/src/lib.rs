//! `#[derive(Model)]` for [`odoo-connect-client`](https://docs.rs/odoo-connect-client): the Odoo model name, the
//! fields to read and the Odoo versions that have each field, derived from the struct, so no field
//! list is kept by hand.
//!
//! Use it through `odoo_connect_client::Model` (or `odoo_connect::odoo::Model`); the macro finds the crate
//! under either name. See the documentation of `odoo_connect_client::Model` for the attributes and an
//! example.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, LitInt, LitStr, parse_macro_input};

/// Derives `Model` for a struct of named fields.
///
/// Struct attributes: `#[odoo(model = "res.partner")]` (required), `#[odoo(crate = "path")]`
/// (where `odoo-connect-client` is, when neither `odoo-connect-client` nor `odoo-connect` is a dependency under its
/// own name).
///
/// Field attributes, all optional: `#[odoo(name = "...")]` (the Odoo field name; by default the
/// `#[serde(rename = "...")]` of the field, else its Rust name), `#[odoo(since = N)]` and
/// `#[odoo(until = N)]` (the first and last Odoo major versions that have the field),
/// `#[odoo(formerly = "old_name")]` (with `since`: the name the field had before `since`; the
/// field must also carry `#[serde(alias = "old_name")]` so both names decode into it), and
/// `#[odoo(skip)]` (a field that is not read from Odoo).
#[proc_macro_derive(Model, attributes(odoo))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `ModelValues`: the typed values of a `create` or `write` of one model.
///
/// Struct attributes: `#[odoo(record = Type)]` (required: the `Model` type of the model
/// written, whose `MODEL` names it) and `#[odoo(crate = "path")]`. Field attributes, all
/// optional: `name`, `since`, `until`, `formerly` (the name before `since`; written to older
/// servers under it) and `skip`, as for `#[derive(Model)]`. Each field's type implements
/// `ToFieldValue`; a field whose value is `None` is not written.
#[proc_macro_derive(ModelValues, attributes(odoo))]
pub fn derive_model_values(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand_values(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

fn expand_values(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let mut record: Option<syn::Type> = None;
    let mut krate: Option<syn::Path> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("odoo")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("record") {
                record = Some(meta.value()?.parse()?);
                Ok(())
            } else if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse()?);
                Ok(())
            } else {
                Err(meta
                    .error("unknown `odoo` attribute on a struct: expected `record` or `crate`"))
            }
        })?;
    }
    let Some(record) = record else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(ModelValues)] needs the record type of the model written: #[odoo(record = Partner)]",
        ));
    };
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(ModelValues)] needs a struct with named fields",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(ModelValues)] works on structs only",
            ));
        }
    };
    let krate = match krate {
        Some(path) => quote!(#path),
        None => crate_path(),
    };
    let mut pushes = Vec::new();
    for field in fields {
        let Some(ident) = field.ident.as_ref() else {
            return Err(syn::Error::new(field.span(), "a field needs a name"));
        };
        let Some(gates) = value_gates(field, ident)? else {
            continue;
        };
        let specs = gates.iter().map(|g| {
            let name = &g.name;
            let since = g.since.unwrap_or(0);
            let until = g.until.unwrap_or(u32::MAX);
            quote_spanned!(g.span=> #krate::model::FieldSpec::new(#name, #since, #until))
        });
        pushes.push(quote_spanned! {field.span()=>
            {
                const SPECS: &[#krate::model::FieldSpec] = &[#(#specs),*];
                if let ::std::option::Option::Some(spec) = SPECS.iter().find(|s| s.applies(version)) {
                    if let ::std::option::Option::Some(value) =
                        #krate::write::ToFieldValue::to_field_value(&self.#ident, version)
                    {
                        out.push((spec.name(), value));
                    }
                }
            }
        });
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #krate::write::ModelValues for #ident #ty_generics #where_clause {
            type Record = #record;

            fn field_values(
                &self,
                version: &#krate::ServerVersion,
            ) -> ::std::vec::Vec<(&'static str, #krate::write::FieldValue)> {
                let mut out = ::std::vec::Vec::new();
                #(#pushes)*
                out
            }
        }
    })
}

/// A field's `#[odoo(...)]` attributes, checked: `skip` alone, `until` not before `since`,
/// `formerly` only with `since` above 0. Shared by both derives.
struct OdooFieldAttrs {
    name: Option<String>,
    since: Option<u32>,
    until: Option<u32>,
    formerly: Option<LitStr>,
    skip: bool,
}

fn odoo_field_attrs(field: &syn::Field, ident: &syn::Ident) -> syn::Result<OdooFieldAttrs> {
    let mut name: Option<String> = None;
    let mut since: Option<u32> = None;
    let mut until: Option<(u32, Span)> = None;
    let mut formerly: Option<LitStr> = None;
    let mut skip = false;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("odoo")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(meta.error("an Odoo field name cannot be empty"));
                }
                name = Some(lit.value());
            } else if meta.path.is_ident("since") {
                let lit: LitInt = meta.value()?.parse()?;
                since = Some(lit.base10_parse()?);
            } else if meta.path.is_ident("until") {
                let lit: LitInt = meta.value()?.parse()?;
                until = Some((lit.base10_parse()?, lit.span()));
            } else if meta.path.is_ident("formerly") {
                formerly = Some(meta.value()?.parse()?);
            } else if meta.path.is_ident("skip") {
                skip = true;
            } else {
                return Err(meta.error(
                    "unknown `odoo` attribute on a field: expected `name`, `since`, `until`, `formerly` or `skip`",
                ));
            }
            Ok(())
        })?;
    }
    if skip && (name.is_some() || since.is_some() || until.is_some() || formerly.is_some()) {
        return Err(syn::Error::new(
            ident.span(),
            "a skipped field takes no other `odoo` attribute",
        ));
    }
    if let (Some(s), Some((u, span))) = (since, until)
        && u < s
    {
        return Err(syn::Error::new(
            span,
            format!("`until = {u}` is before `since = {s}`: no Odoo version has the field"),
        ));
    }
    if let Some(old) = &formerly {
        match since {
            None => {
                return Err(syn::Error::new(
                    old.span(),
                    "`formerly` names the field before it was renamed: add `since = N`, the version that renamed it",
                ));
            }
            Some(0) => {
                return Err(syn::Error::new(
                    old.span(),
                    "`formerly` needs `since` above 0",
                ));
            }
            Some(_) => {}
        }
    }
    Ok(OdooFieldAttrs {
        name,
        since,
        until: until.map(|u| u.0),
        formerly,
        skip,
    })
}

/// The gates of a field under `name`: the old name up to the version before `since` when it
/// was renamed, then `name`.
fn gates_of(attrs: &OdooFieldAttrs, name: String, span: Span) -> Vec<FieldGate> {
    let mut gates = Vec::new();
    if let (Some(old), Some(since)) = (&attrs.formerly, attrs.since) {
        gates.push(FieldGate {
            name: old.value(),
            since: None,
            until: Some(since.saturating_sub(1)),
            span: old.span(),
        });
    }
    gates.push(FieldGate {
        name,
        since: attrs.since,
        until: attrs.until,
        span,
    });
    gates
}

/// The names a written field goes under by version (`None` for a skipped field).
fn value_gates(field: &syn::Field, ident: &syn::Ident) -> syn::Result<Option<Vec<FieldGate>>> {
    let attrs = odoo_field_attrs(field, ident)?;
    if attrs.skip {
        return Ok(None);
    }
    let name = attrs
        .name
        .clone()
        .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
    Ok(Some(gates_of(&attrs, name, ident.span())))
}

struct FieldGate {
    name: String,
    since: Option<u32>,
    until: Option<u32>,
    span: Span,
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let mut model: Option<LitStr> = None;
    let mut krate: Option<syn::Path> = None;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                let rule = if meta.input.peek(syn::Token![=]) {
                    Some(meta.value()?.parse::<LitStr>()?)
                } else {
                    let mut rule = None;
                    meta.parse_nested_meta(|inner| {
                        let lit: LitStr = inner.value()?.parse()?;
                        if inner.path.is_ident("deserialize") {
                            rule = Some(lit);
                        }
                        Ok(())
                    })?;
                    rule
                };
                if let Some(rule) = rule
                    && !matches!(rule.value().as_str(), "snake_case" | "lowercase") {
                        return Err(syn::Error::new(
                            rule.span(),
                            "#[derive(Model)] does not follow `rename_all`: Odoo field names are snake_case; name renamed fields with #[serde(rename = \"...\")] instead",
                        ));
                    }
            } else if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        })?;
    }
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("odoo")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("model") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().trim().is_empty() || lit.value().contains(char::is_whitespace) {
                    return Err(meta.error("the model name is a technical name like `res.partner`"));
                }
                model = Some(lit);
                Ok(())
            } else if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse()?);
                Ok(())
            } else {
                Err(meta.error("unknown `odoo` attribute on a struct: expected `model` or `crate`"))
            }
        })?;
    }
    let Some(model) = model else {
        return Err(syn::Error::new(
            input.ident.span(),
            "#[derive(Model)] needs the Odoo model name: #[odoo(model = \"res.partner\")]",
        ));
    };
    let fields = match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(named) => &named.named,
            _ => {
                return Err(syn::Error::new(
                    input.ident.span(),
                    "#[derive(Model)] needs a struct with named fields",
                ));
            }
        },
        _ => {
            return Err(syn::Error::new(
                input.ident.span(),
                "#[derive(Model)] works on structs only",
            ));
        }
    };

    let mut gates = Vec::new();
    let mut has_id = false;
    for field in fields {
        if let Some(gate) = field_gates(field, &mut gates)? {
            has_id |= gate == "id";
        }
    }
    if !has_id {
        return Err(syn::Error::new(
            input.ident.span(),
            "a Model reads the record id: add a field `id` (or one with #[odoo(name = \"id\")])",
        ));
    }

    let krate = match krate {
        Some(path) => quote!(#path),
        None => crate_path(),
    };
    let specs = gates.iter().map(|g| {
        let name = &g.name;
        let since = g.since.unwrap_or(0);
        let until = g.until.unwrap_or(u32::MAX);
        quote_spanned!(g.span=> #krate::model::FieldSpec::new(#name, #since, #until))
    });
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics #krate::Model for #ident #ty_generics #where_clause {
            const MODEL: &'static str = #model;

            fn fields(version: &#krate::ServerVersion) -> ::std::vec::Vec<&'static str> {
                const FIELDS: &[#krate::model::FieldSpec] = &[#(#specs),*];
                #krate::model::FieldSpec::select(FIELDS, version)
            }
        }
    })
}

/// Reads one field's attributes, pushes its gates and returns the Odoo name it is read under
/// (`None` for a skipped field).
fn field_gates(field: &syn::Field, gates: &mut Vec<FieldGate>) -> syn::Result<Option<String>> {
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| syn::Error::new(field.span(), "a Model field needs a name"))?;
    let attrs = odoo_field_attrs(field, ident)?;
    if attrs.skip {
        return Ok(None);
    }
    let serde = serde_names(field)?;
    if serde.skipped && attrs.name.is_none() {
        // `#[serde(skip)]` / `skip_deserializing`: nothing in a reply lands in it, so it is not read.
        return Ok(None);
    }
    let name = attrs
        .name
        .clone()
        .or(serde.rename)
        .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
    if let Some(old) = &attrs.formerly
        && !serde.aliases.iter().any(|a| *a == old.value())
    {
        return Err(syn::Error::new(
            old.span(),
            format!(
                "`formerly = \"{0}\"`: add #[serde(alias = \"{0}\")] so that both names decode into this field",
                old.value()
            ),
        ));
    }
    gates.extend(gates_of(&attrs, name.clone(), ident.span()));
    Ok(Some(name))
}

#[derive(Default)]
struct SerdeNames {
    skipped: bool,
    rename: Option<String>,
    aliases: Vec<String>,
}

/// The `rename` (or `rename(deserialize = ...)`) and `alias` values of a field's serde attributes.
fn serde_names(field: &syn::Field) -> syn::Result<SerdeNames> {
    let mut names = SerdeNames::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                if meta.input.peek(syn::Token![=]) {
                    let lit: LitStr = meta.value()?.parse()?;
                    names.rename = Some(lit.value());
                } else {
                    meta.parse_nested_meta(|inner| {
                        let lit: LitStr = inner.value()?.parse()?;
                        if inner.path.is_ident("deserialize") {
                            names.rename = Some(lit.value());
                        }
                        Ok(())
                    })?;
                }
            } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_deserializing") {
                names.skipped = true;
            } else if meta.path.is_ident("alias") {
                let lit: LitStr = meta.value()?.parse()?;
                names.aliases.push(lit.value());
            } else if meta.input.peek(syn::Token![=]) {
                // `with = "..."`, `default = "..."` and the like: not ours to read.
                let _: syn::Expr = meta.value()?.parse()?;
            } else if meta.input.peek(syn::token::Paren) {
                let _content;
                syn::parenthesized!(_content in meta.input);
            }
            Ok(())
        })?;
    }
    Ok(names)
}

/// Where `odoo-connect-client` is, seen from the crate being compiled.
fn crate_path() -> TokenStream2 {
    use proc_macro_crate::{FoundCrate, crate_name};
    match crate_name("odoo-connect-client") {
        Ok(FoundCrate::Itself) => return quote!(::odoo_connect_client),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            return quote!(::#ident);
        }
        Err(_) => {}
    }
    match crate_name("odoo-connect") {
        Ok(FoundCrate::Itself) => quote!(::odoo_connect::odoo),
        Ok(FoundCrate::Name(name)) => {
            let ident = syn::Ident::new(&name, Span::call_site());
            quote!(::#ident::odoo)
        }
        Err(_) => quote!(::odoo_connect_client),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn expanded(input: DeriveInput) -> String {
        match expand(&input) {
            Ok(tokens) => tokens.to_string(),
            Err(e) => panic!("no expansion: {e}"),
        }
    }

    fn error(input: DeriveInput) -> String {
        match expand(&input) {
            Ok(tokens) => panic!("expanded: {tokens}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn expands_to_a_field_list_with_gates() {
        let code = expanded(parse_quote! {
            #[odoo(model = "sale.order.line", crate = "crate")]
            struct Line<T: Clone> where T: Send {
                id: RecordId,
                #[serde(default, rename = "type")]
                kind: T,
                #[odoo(since = 19, formerly = "tax_id")]
                #[serde(default, alias = "tax_id", deserialize_with = "x2many::deserialize")]
                tax_ids: Vec<RecordId>,
                #[odoo(until = 18)]
                #[serde(rename(serialize = "s", deserialize = "mobile"))]
                phone: String,
                #[odoo(skip)]
                local: bool,
                r#ref: String,
            }
        });
        assert!(
            code.contains("impl < T : Clone > crate :: Model for Line < T > where T : Send"),
            "{code}"
        );
        assert!(
            code.contains("const MODEL : & 'static str = \"sale.order.line\""),
            "{code}"
        );
        let specs = [
            "crate :: model :: FieldSpec :: new (\"id\" , 0u32 , 4294967295u32)",
            "crate :: model :: FieldSpec :: new (\"type\" , 0u32 , 4294967295u32)",
            "crate :: model :: FieldSpec :: new (\"tax_id\" , 0u32 , 18u32)",
            "crate :: model :: FieldSpec :: new (\"tax_ids\" , 19u32 , 4294967295u32)",
            "crate :: model :: FieldSpec :: new (\"mobile\" , 0u32 , 18u32)",
            "crate :: model :: FieldSpec :: new (\"ref\" , 0u32 , 4294967295u32)",
        ];
        let joined = specs.join(" , ");
        assert!(code.contains(&joined), "{code}");
        assert!(!code.contains("local"), "{code}");
    }

    #[test]
    fn values_expand_to_gated_pushes() {
        let code = match expand_values(&parse_quote! {
            #[odoo(record = SaleOrderLine, crate = "crate")]
            struct LineValues {
                name: Option<String>,
                #[odoo(since = 19, formerly = "product_uom")]
                product_uom_id: Option<RecordId>,
                #[odoo(skip)]
                local: bool,
            }
        }) {
            Ok(tokens) => tokens.to_string(),
            Err(e) => panic!("no expansion: {e}"),
        };
        assert!(code.contains("type Record = SaleOrderLine"), "{code}");
        assert!(
            code.contains("crate :: model :: FieldSpec :: new (\"product_uom\" , 0u32 , 18u32) , crate :: model :: FieldSpec :: new (\"product_uom_id\" , 19u32 , 4294967295u32)"),
            "{code}"
        );
        assert!(!code.contains("local"), "{code}");
        let missing = match expand_values(&parse_quote! { struct V { a: u32 } }) {
            Ok(tokens) => panic!("expanded: {tokens}"),
            Err(e) => e.to_string(),
        };
        assert!(missing.contains("record"), "{missing}");
    }

    #[test]
    fn finds_the_client_crate_by_default() {
        let code = expanded(parse_quote! {
            #[odoo(model = "res.country")]
            struct Country { id: i64 }
        });
        // This crate depends on neither odoo-connect-client nor odoo-connect: the fallback.
        assert!(
            code.contains(":: odoo_connect_client :: Model for Country"),
            "{code}"
        );
    }

    #[test]
    fn serde_skip_and_rename_all() {
        let skipped = expanded(parse_quote! {
            #[odoo(model = "a.b")]
            #[serde(rename_all = "snake_case")]
            struct A { id: i64, #[serde(skip)] local: i64, #[serde(default, skip_deserializing)] also: i64, name: String }
        });
        assert!(!skipped.contains("\"local\""), "{skipped}");
        assert!(!skipped.contains("\"also\""), "{skipped}");
        assert!(skipped.contains("\"name\""), "{skipped}");
        let camel = error(parse_quote! {
            #[odoo(model = "a.b")]
            #[serde(rename_all = "camelCase")]
            struct A { id: i64 }
        });
        assert!(camel.contains("does not follow `rename_all`"), "{camel}");
        let camel_de = error(parse_quote! {
            #[serde(rename_all(serialize = "snake_case", deserialize = "PascalCase"))]
            #[odoo(model = "a.b")]
            struct A { id: i64 }
        });
        assert!(
            camel_de.contains("does not follow `rename_all`"),
            "{camel_de}"
        );
    }

    #[test]
    fn struct_errors() {
        let missing = error(parse_quote! { struct A { id: i64 } });
        assert!(missing.contains("needs the Odoo model name"), "{missing}");
        let blank = error(parse_quote! { #[odoo(model = "res partner")] struct A { id: i64 } });
        assert!(blank.contains("technical name"), "{blank}");
        let empty = error(parse_quote! { #[odoo(model = "")] struct A { id: i64 } });
        assert!(empty.contains("technical name"), "{empty}");
        let unknown = error(parse_quote! { #[odoo(table = "x")] struct A { id: i64 } });
        assert!(unknown.contains("expected `model` or `crate`"), "{unknown}");
        let tuple = error(parse_quote! { #[odoo(model = "a.b")] struct A(i64); });
        assert!(tuple.contains("named fields"), "{tuple}");
        let unit = error(parse_quote! { #[odoo(model = "a.b")] struct A; });
        assert!(unit.contains("named fields"), "{unit}");
        let en = error(parse_quote! { #[odoo(model = "a.b")] enum A { B } });
        assert!(en.contains("structs only"), "{en}");
        let no_id = error(parse_quote! { #[odoo(model = "a.b")] struct A { name: String } });
        assert!(no_id.contains("add a field `id`"), "{no_id}");
        let skipped_id = error(parse_quote! {
            #[odoo(model = "a.b")] struct A { #[odoo(skip)] id: i64 }
        });
        assert!(skipped_id.contains("add a field `id`"), "{skipped_id}");
        // An id under another Rust name is fine.
        expanded(parse_quote! {
            #[odoo(model = "a.b")] struct A { #[odoo(name = "id")] key: i64 }
        });
    }

    #[test]
    fn field_errors() {
        let cases: Vec<(DeriveInput, &str)> = vec![
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(name = "")] b: i64 } },
                "cannot be empty",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(from = 1)] b: i64 } },
                "expected `name`, `since`, `until`, `formerly` or `skip`",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(since = "17")] b: i64 } },
                "expected integer literal",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(skip, since = 17)] b: i64 } },
                "a skipped field takes no other",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(since = 18, until = 17)] b: i64 } },
                "`until = 17` is before `since = 18`",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(formerly = "c")] #[serde(alias = "c")] b: i64 } },
                "add `since = N`",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(since = 0, formerly = "c")] #[serde(alias = "c")] b: i64 } },
                "needs `since` above 0",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(since = 19, formerly = "c")] b: i64 } },
                "add #[serde(alias = \"c\")]",
            ),
            (
                parse_quote! { #[odoo(model = "a.b")] struct A { id: i64, #[odoo(since = 19, formerly = "c")] #[serde(alias = "d")] b: i64 } },
                "add #[serde(alias = \"c\")]",
            ),
        ];
        for (input, expected) in cases {
            let e = error(input);
            assert!(e.contains(expected), "{e:?} lacks {expected:?}");
        }
    }
}
