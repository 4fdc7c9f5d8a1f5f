//! The public methods of the served models: their Python signatures (for argument binding and
//! Odoo's `TypeError`s), and their implementation on the ORM.

use serde_json::{Map, Value, json};

use super::compute;
use super::errors::{OdooError, OdooResult};
use super::group;
use super::load;
use super::models;
use super::orm::{Access, Load, Orm, as_id, domain_arg, ids_of};
use super::schema::{Field, FieldType};
use super::workflows;

/// One parameter of a method.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub(crate) name: &'static str,
    pub(crate) required: bool,
}

const fn req(name: &'static str) -> Param {
    Param {
        name,
        required: true,
    }
}

const fn opt(name: &'static str) -> Param {
    Param {
        name,
        required: false,
    }
}

/// A method's signature.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Method {
    pub(crate) name: &'static str,
    /// Python qualified name, as in `BaseModel.search_count()`.
    pub(crate) qualname: &'static str,
    /// `@api.model`: called without ids.
    pub(crate) api_model: bool,
    pub(crate) params: &'static [Param],
    /// Accepts `**kwargs` (passed on to `_read_format` for `search_read`).
    pub(crate) var_kwargs: bool,
    /// Models the method belongs to (`None`: every model).
    pub(crate) models: Option<&'static [&'static str]>,
    /// First and last version having the method.
    pub(crate) since: u8,
    pub(crate) until: u8,
}

const fn base(
    name: &'static str,
    qualname: &'static str,
    api_model: bool,
    params: &'static [Param],
) -> Method {
    Method {
        name,
        qualname,
        api_model,
        params,
        var_kwargs: false,
        models: None,
        since: 0,
        until: 99,
    }
}

const fn on(models: &'static [&'static str], m: Method) -> Method {
    Method {
        models: Some(models),
        ..m
    }
}

const fn between(since: u8, until: u8, m: Method) -> Method {
    Method { since, until, ..m }
}

const METHODS: &[Method] = &[
    base(
        "search",
        "BaseModel.search",
        true,
        &[req("domain"), opt("offset"), opt("limit"), opt("order")],
    ),
    base(
        "search_count",
        "BaseModel.search_count",
        true,
        &[req("domain"), opt("limit")],
    ),
    Method {
        var_kwargs: true,
        ..base(
            "search_read",
            "BaseModel.search_read",
            true,
            &[
                opt("domain"),
                opt("fields"),
                opt("offset"),
                opt("limit"),
                opt("order"),
            ],
        )
    },
    base(
        "read",
        "BaseModel.read",
        false,
        &[opt("fields"), opt("load")],
    ),
    base("create", "BaseModel.create", true, &[req("vals_list")]),
    base("write", "BaseModel.write", false, &[req("vals")]),
    base("unlink", "BaseModel.unlink", false, &[]),
    between(
        19,
        99,
        base(
            "name_search",
            "BaseModel.name_search",
            true,
            &[opt("name"), opt("domain"), opt("operator"), opt("limit")],
        ),
    ),
    between(
        0,
        18,
        base(
            "name_search",
            "BaseModel.name_search",
            true,
            &[opt("name"), opt("args"), opt("operator"), opt("limit")],
        ),
    ),
    base("name_create", "BaseModel.name_create", true, &[req("name")]),
    base(
        "fields_get",
        "BaseModel.fields_get",
        true,
        &[opt("allfields"), opt("attributes")],
    ),
    base(
        "read_group",
        "BaseModel.read_group",
        true,
        &[
            req("domain"),
            req("fields"),
            req("groupby"),
            opt("offset"),
            opt("limit"),
            opt("orderby"),
            opt("lazy"),
        ],
    ),
    between(
        19,
        99,
        base(
            "formatted_read_group",
            "BaseModel.formatted_read_group",
            true,
            &[
                req("domain"),
                opt("groupby"),
                opt("aggregates"),
                opt("having"),
                opt("offset"),
                opt("limit"),
                opt("order"),
            ],
        ),
    ),
    base(
        "load",
        "BaseModel.load",
        true,
        &[req("fields"), req("data")],
    ),
    base(
        "web_search_read",
        "BaseModel.web_search_read",
        true,
        &[
            req("domain"),
            req("specification"),
            opt("offset"),
            opt("limit"),
            opt("order"),
            opt("count_limit"),
        ],
    ),
    base(
        "web_read",
        "BaseModel.web_read",
        false,
        &[req("specification")],
    ),
    base(
        "default_get",
        "BaseModel.default_get",
        true,
        &[req("fields_list")],
    ),
    base("exists", "BaseModel.exists", false, &[]),
    on(
        &["res.users"],
        base("context_get", "ResUsers.context_get", true, &[]),
    ),
    on(
        &["sale.order"],
        base("action_confirm", "SaleOrder.action_confirm", false, &[]),
    ),
    on(
        &["sale.order"],
        base("action_cancel", "SaleOrder.action_cancel", false, &[]),
    ),
    on(
        &["sale.order"],
        base("action_draft", "SaleOrder.action_draft", false, &[]),
    ),
    on(
        &["sale.advance.payment.inv"],
        base(
            "create_invoices",
            "SaleAdvancePaymentInv.create_invoices",
            false,
            &[],
        ),
    ),
    on(
        &["account.move"],
        base("action_post", "AccountMove.action_post", false, &[]),
    ),
    on(
        &["account.move"],
        base("button_draft", "AccountMove.button_draft", false, &[]),
    ),
    on(
        &["account.move"],
        base("button_cancel", "AccountMove.button_cancel", false, &[]),
    ),
    on(
        &["account.payment.register"],
        base(
            "action_create_payments",
            "AccountPaymentRegister.action_create_payments",
            false,
            &[],
        ),
    ),
    on(
        &["account.payment"],
        base("action_post", "AccountPayment.action_post", false, &[]),
    ),
    on(
        &["account.payment"],
        base("action_draft", "AccountPayment.action_draft", false, &[]),
    ),
    on(
        &["account.payment"],
        base("action_cancel", "AccountPayment.action_cancel", false, &[]),
    ),
    on(
        &["base.language.install"],
        base(
            "lang_install",
            "BaseLanguageInstall.lang_install",
            false,
            &[],
        ),
    ),
];

/// The signature of `model.method` in `version`.
pub(crate) fn find(model: &str, method: &str, version: u8) -> Option<&'static Method> {
    METHODS.iter().find(|m| {
        m.name == method
            && m.models.is_none_or(|ms| ms.contains(&model))
            && version >= m.since
            && version <= m.until
    })
}

/// Public methods of a model (for the API documentation route).
pub(crate) fn public_methods(model: &str, version: u8) -> Vec<&'static Method> {
    METHODS
        .iter()
        .filter(|m| m.models.is_none_or(|ms| ms.contains(&model)))
        .filter(|m| version >= m.since && version <= m.until)
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn quote_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        _ => {
            let (last, rest) = quoted
                .split_last()
                .map_or((String::new(), &[][..]), |(l, r)| (l.clone(), r));
            format!("{} and {last}", rest.join(", "))
        }
    }
}

/// Binds positional and keyword arguments as Python would (JSON-RPC `execute_kw`).
pub(crate) fn bind_python(
    m: &Method,
    positional: &[Value],
    kwargs: &Map<String, Value>,
) -> OdooResult<Map<String, Value>> {
    let q = m.qualname;
    if positional.len() > m.params.len() {
        let required = m.params.iter().filter(|p| p.required).count();
        let takes = if required == m.params.len() {
            format!("{}", m.params.len() + 1)
        } else {
            format!("from {} to {}", required + 1, m.params.len() + 1)
        };
        return Err(OdooError::type_error(format!(
            "{q}() takes {takes} positional argument{} but {} were given",
            plural(m.params.len() + 1),
            positional.len() + 1
        )));
    }
    let mut bound = Map::new();
    for (p, v) in m.params.iter().zip(positional) {
        bound.insert(p.name.to_string(), v.clone());
    }
    let mut extra = Map::new();
    for (k, v) in kwargs {
        if m.params.iter().any(|p| p.name == k) {
            if bound.contains_key(k) {
                return Err(OdooError::type_error(format!(
                    "{q}() got multiple values for argument '{k}'"
                )));
            }
            bound.insert(k.clone(), v.clone());
        } else if m.var_kwargs {
            extra.insert(k.clone(), v.clone());
        } else {
            return Err(OdooError::type_error(format!(
                "{q}() got an unexpected keyword argument '{k}'"
            )));
        }
    }
    let missing: Vec<&str> = m
        .params
        .iter()
        .filter(|p| p.required && !bound.contains_key(p.name))
        .map(|p| p.name)
        .collect();
    if !missing.is_empty() {
        return Err(OdooError::type_error(format!(
            "{q}() missing {} required positional argument{}: {}",
            missing.len(),
            plural(missing.len()),
            quote_list(&missing)
        )));
    }
    check_read_kwargs(&extra)?;
    for (k, v) in extra {
        bound.insert(k, v);
    }
    Ok(bound)
}

/// `search_read` passes unknown keywords to `_read_format`, which only knows `load`.
fn check_read_kwargs(extra: &Map<String, Value>) -> OdooResult<()> {
    if let Some(k) = extra.keys().find(|k| k.as_str() != "load") {
        return Err(OdooError::type_error(format!(
            "BaseModel._read_format() got an unexpected keyword argument '{k}'"
        )));
    }
    Ok(())
}

/// Binds named arguments as the JSON-2 controller does (`signature.bind`), with its 422s.
pub(crate) fn bind_named(m: &Method, named: &Map<String, Value>) -> OdooResult<Map<String, Value>> {
    let mut bound = Map::new();
    let mut extra = Map::new();
    for (k, v) in named {
        if m.params.iter().any(|p| p.name == k) {
            bound.insert(k.clone(), v.clone());
        } else if m.var_kwargs {
            extra.insert(k.clone(), v.clone());
        } else {
            return Err(OdooError::unprocessable(format!(
                "got an unexpected keyword argument '{k}'"
            )));
        }
    }
    if let Some(p) = m
        .params
        .iter()
        .find(|p| p.required && !bound.contains_key(p.name))
    {
        return Err(OdooError::unprocessable(format!(
            "missing a required argument: '{}'",
            p.name
        )));
    }
    check_read_kwargs(&extra)?;
    for (k, v) in extra {
        bound.insert(k, v);
    }
    Ok(bound)
}

fn access_of(method: &str) -> Access {
    match method {
        "create" | "load" | "name_create" => Access::Create,
        "unlink" => Access::Unlink,
        m if models::is_read_only_method(m) => Access::Read,
        _ => Access::Write,
    }
}

fn usize_of(v: Option<&Value>) -> Option<usize> {
    match v {
        Some(Value::Number(n)) => n.as_u64().map(|x| x as usize),
        _ => None,
    }
}

fn opt_str(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
}

/// Runs a bound method. `ids` is `None` for `@api.model` methods.
pub(crate) fn run(
    orm: &mut Orm<'_>,
    model: &str,
    m: &Method,
    ids: &[i64],
    args: &Map<String, Value>,
) -> OdooResult<Value> {
    orm.check_access(model, access_of(m.name))?;
    match m.name {
        "search" => {
            let domain = domain_arg(args.get("domain"));
            let found = orm.search(
                model,
                &domain,
                opt_str(args.get("order")),
                usize_of(args.get("offset")).unwrap_or(0),
                usize_of(args.get("limit")).filter(|&l| l > 0),
            )?;
            Ok(json!(found))
        }
        "search_count" => {
            let domain = domain_arg(args.get("domain"));
            let limit = usize_of(args.get("limit")).filter(|&l| l > 0);
            let found = orm.search(model, &domain, Some("id"), 0, limit)?;
            Ok(json!(found.len()))
        }
        "search_read" => {
            let domain = domain_arg(args.get("domain"));
            let fields = orm.fields_to_read(model, args.get("fields").unwrap_or(&Value::Null))?;
            let found = orm.search(
                model,
                &domain,
                opt_str(args.get("order")),
                usize_of(args.get("offset")).unwrap_or(0),
                usize_of(args.get("limit")).filter(|&l| l > 0),
            )?;
            Ok(Value::Array(orm.read(
                model,
                &found,
                &fields,
                load_of(args),
            )))
        }
        "read" => {
            let fields = orm.fields_to_read(model, args.get("fields").unwrap_or(&Value::Null))?;
            Ok(Value::Array(orm.read(model, ids, &fields, load_of(args))))
        }
        "create" => {
            let list: Vec<Map<String, Value>> = match args.get("vals_list") {
                Some(Value::Object(o)) => vec![o.clone()],
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|v| {
                        v.as_object().cloned().ok_or_else(|| {
                            OdooError::type_error("'list' object is not a mapping".to_string())
                        })
                    })
                    .collect::<OdooResult<_>>()?,
                _ => {
                    return Err(OdooError::type_error(
                        "BaseModel.create() argument 'vals_list' must be a dict or a list of dicts",
                    ));
                }
            };
            let mut created = Vec::new();
            for vals in &list {
                created.push(orm.create(model, vals)?);
            }
            Ok(json!(created))
        }
        "write" => {
            let vals = args
                .get("vals")
                .and_then(Value::as_object)
                .cloned()
                .ok_or_else(|| OdooError::attribute("'list' object has no attribute 'items'"))?;
            orm.write(model, ids, &vals)?;
            Ok(json!(true))
        }
        "unlink" => {
            orm.unlink(model, ids)?;
            Ok(json!(true))
        }
        "exists" => Ok(json!(
            ids.iter()
                .copied()
                .filter(|&i| orm.exists(model, i))
                .collect::<Vec<_>>()
        )),
        "name_search" => name_search(orm, model, args),
        "name_create" => {
            let rec_name = orm.meta(model).and_then(|m| m.rec_name).unwrap_or("name");
            let field = orm
                .sfield(model, rec_name)
                .filter(|f| f.store)
                .or_else(|| orm.sfield(model, "name"))
                .ok_or_else(|| {
                    OdooError::user(format!(
                        "Cannot execute name_create, no _rec_name defined on {model}"
                    ))
                })?;
            let mut vals = Map::new();
            vals.insert(
                field.name.clone(),
                args.get("name").cloned().unwrap_or(Value::Null),
            );
            let id = orm.create(model, &vals)?;
            Ok(json!([id, orm.display_name(model, id)]))
        }
        "fields_get" => Ok(fields_get(
            orm,
            model,
            args.get("allfields"),
            args.get("attributes"),
        )),
        "read_group" => group::read_group(orm, model, args),
        "formatted_read_group" => group::formatted_read_group(orm, model, args),
        "load" => load::load(
            orm,
            model,
            args.get("fields").unwrap_or(&Value::Null),
            args.get("data").unwrap_or(&Value::Null),
        ),
        "web_search_read" => {
            let domain = domain_arg(args.get("domain"));
            let spec = args.get("specification").cloned().unwrap_or(json!({}));
            let offset = usize_of(args.get("offset")).unwrap_or(0);
            let limit = usize_of(args.get("limit")).filter(|&l| l > 0);
            let found = orm.search(model, &domain, opt_str(args.get("order")), offset, limit)?;
            let records = web_read(orm, model, &found, &spec)?;
            let length = match limit {
                Some(l) if found.len() == l => {
                    orm.search(model, &domain, Some("id"), 0, None)?.len()
                }
                _ => found.len() + offset,
            };
            Ok(json!({"length": length, "records": records}))
        }
        "web_read" => {
            let spec = args.get("specification").cloned().unwrap_or(json!({}));
            Ok(Value::Array(web_read(orm, model, ids, &spec)?))
        }
        "default_get" => {
            let mut row = super::store::Row::new();
            compute::defaults(orm, model, &mut row)?;
            let wanted: Vec<String> = match args.get("fields_list") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect(),
                _ => Vec::new(),
            };
            let mut out = Map::new();
            for name in wanted {
                if let Some(f) = orm.field(model, &name)
                    && let Some(v) = row.get(&f.storage)
                {
                    let v = if v.is_null() {
                        Value::Bool(false)
                    } else {
                        v.clone()
                    };
                    out.insert(name, v);
                }
            }
            Ok(Value::Object(out))
        }
        "context_get" => Ok(context_get(orm)),
        "action_confirm" if model == "sale.order" => {
            orm.ensure_exist(model, ids)?;
            orm.sudo(|o| workflows::action_confirm(o, ids))
        }
        "action_cancel" if model == "sale.order" => {
            orm.ensure_exist(model, ids)?;
            orm.sudo(|o| workflows::order_cancel(o, ids))
        }
        "action_draft" if model == "sale.order" => {
            orm.ensure_exist(model, ids)?;
            workflows::order_draft(orm, ids)
        }
        "create_invoices" => {
            orm.ensure_exist(model, ids)?;
            orm.sudo(|o| workflows::create_invoices(o, ids))
        }
        "action_post" if model == "account.move" => {
            orm.ensure_exist(model, ids)?;
            workflows::action_post(orm, ids)
        }
        "button_draft" => {
            orm.ensure_exist(model, ids)?;
            workflows::button_draft(orm, ids)
        }
        "button_cancel" => {
            orm.ensure_exist(model, ids)?;
            workflows::button_cancel(orm, ids)
        }
        "action_create_payments" => {
            orm.ensure_exist(model, ids)?;
            orm.sudo(|o| workflows::action_create_payments(o, ids))
        }
        "action_post" if model == "account.payment" => {
            orm.ensure_exist(model, ids)?;
            workflows::payment_post(orm, ids)
        }
        "action_draft" if model == "account.payment" => {
            orm.ensure_exist(model, ids)?;
            workflows::payment_draft(orm, ids)
        }
        "action_cancel" if model == "account.payment" => {
            orm.ensure_exist(model, ids)?;
            workflows::payment_cancel(orm, ids)
        }
        "lang_install" => {
            orm.ensure_exist(model, ids)?;
            orm.sudo(|o| workflows::lang_install(o, ids))
        }
        other => Err(OdooError::attribute(format!(
            "The method '{model}.{other}' does not exist"
        ))),
    }
}

fn load_of(args: &Map<String, Value>) -> Load {
    match args.get("load") {
        Some(Value::Null) | Some(Value::Bool(false)) => Load::Raw,
        Some(Value::String(s)) if s != "_classic_read" => Load::Raw,
        _ => Load::Classic,
    }
}

/// `res.users.context_get`.
pub(crate) fn context_get(orm: &Orm<'_>) -> Value {
    let uid = orm.ctx.uid;
    let lang = orm.stored("res.users", uid, "lang");
    let tz = orm.stored("res.users", uid, "tz");
    json!({
        "lang": if lang.is_null() { json!("en_US") } else { lang },
        "tz": if tz.is_null() { Value::Bool(false) } else { tz },
        "uid": uid,
    })
}

fn name_search(orm: &Orm<'_>, model: &str, args: &Map<String, Value>) -> OdooResult<Value> {
    let name = args
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let filter = args
        .get("domain")
        .or_else(|| args.get("args"))
        .cloned()
        .unwrap_or(json!([]));
    let operator = args
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("ilike")
        .to_string();
    let limit = match args.get("limit") {
        Some(Value::Null) => None,
        Some(v) => as_id(v).map(|l| l.max(0) as usize).filter(|&l| l > 0),
        None => Some(100),
    };
    let search_fields: Vec<&str> = match model {
        "res.partner" => vec!["complete_name", "email", "ref", "vat"],
        "product.product" | "product.template" => vec!["name", "default_code"],
        _ => vec![
            orm.meta(model)
                .and_then(|m| m.rec_name)
                .unwrap_or("display_name"),
        ],
    };
    let mut domain: Vec<Value> = match filter {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    if !(name.is_empty() && operator.contains("like")) {
        let available: Vec<&str> = search_fields
            .into_iter()
            .filter(|f| *f == "display_name" || orm.sfield(model, f).is_some())
            .collect();
        let api: Vec<String> = available
            .iter()
            .map(|f| {
                orm.sfield(model, f)
                    .map_or((*f).to_string(), |x| x.name.clone())
            })
            .collect();
        let mut or_domain = Vec::new();
        for _ in 1..api.len() {
            or_domain.push(json!("|"));
        }
        for f in &api {
            or_domain.push(json!([f, operator, name]));
        }
        if !domain.is_empty() {
            let mut combined = vec![json!("&")];
            combined.extend(normalize(domain));
            combined.extend(or_domain);
            domain = combined;
        } else {
            domain = or_domain;
        }
    }
    let found = orm.search(model, &Value::Array(domain), None, 0, limit)?;
    Ok(Value::Array(
        found
            .into_iter()
            .map(|id| json!([id, orm.display_name(model, id)]))
            .collect(),
    ))
}

/// Makes an implicit-AND domain a single prefix expression.
fn normalize(items: Vec<Value>) -> Vec<Value> {
    // Count top-level expressions: each operator consumes operands.
    let mut expressions = 0i64;
    let mut needed = 1i64;
    for item in &items {
        match item.as_str() {
            Some("&") | Some("|") => needed += 1,
            Some("!") => {}
            _ => {
                needed -= 1;
                if needed == 0 {
                    expressions += 1;
                    needed = 1;
                }
            }
        }
    }
    if expressions <= 1 {
        return items;
    }
    let mut out = Vec::new();
    for _ in 1..expressions {
        out.push(json!("&"));
    }
    out.extend(items);
    out
}

fn field_description(orm: &Orm<'_>, model: &str, f: &Field) -> Map<String, Value> {
    let mut d = Map::new();
    d.insert("type".into(), json!(f.ftype.as_str()));
    d.insert("string".into(), json!(f.string));
    if let Some(extra) = &f.extra {
        for (k, v) in extra {
            d.insert(k.clone(), v.clone());
        }
    }
    if !f.standard_attrs {
        if let Some(sel) = &f.selection {
            d.insert("selection".into(), sel.clone());
        }
        return d;
    }
    let relational = matches!(
        f.ftype,
        FieldType::Many2one | FieldType::One2many | FieldType::Many2many
    );
    d.insert("company_dependent".into(), json!(f.company_dependent));
    d.insert("readonly".into(), json!(f.readonly));
    d.insert("required".into(), json!(f.required));
    d.insert("store".into(), json!(f.store));
    d.insert("change_default".into(), json!(false));
    d.insert("depends".into(), json!([]));
    d.insert("exportable".into(), json!(true));
    d.insert("manual".into(), json!(false));
    d.insert("name".into(), json!(f.name));
    d.insert("searchable".into(), json!(true));
    let sortable = f.store && !f.ftype.is_x2many() && !matches!(f.ftype, FieldType::Binary);
    d.insert("sortable".into(), json!(sortable));
    d.insert(
        "groupable".into(),
        json!(sortable && !matches!(f.ftype, FieldType::Text | FieldType::Html | FieldType::Json)),
    );
    let rec_name = orm.meta(model).and_then(|m| m.rec_name);
    d.insert(
        "default_export_compatible".into(),
        json!(rec_name == Some(f.storage.as_str()) || f.storage == "name"),
    );
    if matches!(f.ftype, FieldType::Char | FieldType::Text | FieldType::Html) {
        d.insert("translate".into(), json!(false));
    }
    if f.ftype == FieldType::Char {
        d.insert("trim".into(), json!(true));
    }
    if relational {
        let comodel = f.relation.clone().unwrap_or_default();
        d.insert("relation".into(), json!(comodel));
        let hierarchical = orm.meta(&comodel).and_then(|m| m.parent).is_some();
        d.insert("allow_hierachy_operators".into(), json!(hierarchical));
        let (ctx, dom) = if model == "res.partner" && f.storage == "child_ids" {
            (
                json!({"active_test": false}),
                json!([["active", "=", true]]),
            )
        } else {
            (json!({}), json!([]))
        };
        d.insert("context".into(), ctx);
        d.insert("domain".into(), dom);
        if f.ftype == FieldType::One2many
            && let Some(inv) = models::one2many_inverse(model, &f.storage)
        {
            let inv_api = orm
                .sfield(&comodel, inv)
                .map_or(inv.to_string(), |x| x.name.clone());
            d.insert("relation_field".into(), json!(inv_api));
        }
    }
    if f.ftype == FieldType::Selection {
        let selection = if f.storage == "lang" {
            let langs: Vec<Value> = orm
                .db
                .ids("res.lang")
                .into_iter()
                .filter(|&l| orm.stored("res.lang", l, "active") == Value::Bool(true))
                .map(|l| {
                    json!([
                        orm.stored("res.lang", l, "code"),
                        orm.stored("res.lang", l, "name")
                    ])
                })
                .collect();
            Value::Array(langs)
        } else {
            f.selection.clone().unwrap_or(json!([]))
        };
        d.insert("selection".into(), selection);
    }
    d
}

/// `fields_get(allfields, attributes)`.
pub(crate) fn fields_get(
    orm: &Orm<'_>,
    model: &str,
    allfields: Option<&Value>,
    attributes: Option<&Value>,
) -> Value {
    let Some(schema) = orm.model(model) else {
        return json!({});
    };
    let only: Option<Vec<&str>> = match allfields {
        Some(Value::Array(a)) if !a.is_empty() => {
            Some(a.iter().filter_map(Value::as_str).collect())
        }
        _ => None,
    };
    let attrs: Option<Vec<&str>> = match attributes {
        Some(Value::Array(a)) => Some(a.iter().filter_map(Value::as_str).collect()),
        _ => None,
    };
    let mut out = Map::new();
    for f in &schema.fields {
        if only.as_ref().is_some_and(|o| !o.contains(&f.name.as_str())) {
            continue;
        }
        let mut d = field_description(orm, model, f);
        if let (Some(a), true) = (&attrs, f.standard_attrs) {
            d.retain(|k, _| a.contains(&k.as_str()));
        }
        out.insert(f.name.clone(), Value::Object(d));
    }
    Value::Object(out)
}

fn web_value(
    orm: &Orm<'_>,
    model: &str,
    id: i64,
    field: &'static Field,
    sub: &Value,
) -> OdooResult<Value> {
    let sub_fields = sub.get("fields");
    match field.ftype {
        FieldType::Many2one => {
            let comodel = field.relation.clone().unwrap_or_default();
            let rel =
                as_id(&orm.get(model, id, &field.storage)).filter(|&r| orm.exists(&comodel, r));
            match (rel, sub_fields) {
                (None, _) => Ok(Value::Bool(false)),
                (Some(r), Some(spec)) => {
                    let mut recs = web_read(orm, &comodel, &[r], spec)?;
                    Ok(recs.pop().unwrap_or(Value::Bool(false)))
                }
                (Some(r), None) => Ok(json!(r)),
            }
        }
        FieldType::One2many | FieldType::Many2many => {
            let comodel = field.relation.clone().unwrap_or_default();
            let mut related = ids_of(&orm.get(model, id, &field.storage)).unwrap_or_default();
            let Some(spec) = sub_fields else {
                return Ok(json!(related));
            };
            if let Some(order) = sub.get("order").and_then(Value::as_str) {
                orm.check_order(&comodel, order)?;
                orm.sort_ids(&comodel, &mut related, order);
            }
            let limit = sub.get("limit").and_then(Value::as_u64).map(|l| l as usize);
            let head: Vec<i64> = related
                .iter()
                .copied()
                .take(limit.unwrap_or(usize::MAX))
                .collect();
            let mut recs = web_read(orm, &comodel, &head, spec)?;
            for &r in related.iter().skip(head.len()) {
                recs.push(json!({"id": r}));
            }
            Ok(Value::Array(recs))
        }
        _ => Ok(orm.read_value(model, id, field, Load::Classic)),
    }
}

/// `web_read` with a specification.
pub(crate) fn web_read(
    orm: &Orm<'_>,
    model: &str,
    ids: &[i64],
    spec: &Value,
) -> OdooResult<Vec<Value>> {
    let entries: Vec<(String, Value)> = spec
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    let mut fields = Vec::new();
    for (name, sub) in &entries {
        if name == "id" {
            continue;
        }
        let f = orm
            .field(model, name)
            .ok_or_else(|| orm.invalid_field(model, name))?;
        fields.push((f, sub.clone()));
    }
    let mut out = Vec::new();
    for &id in ids.iter().filter(|&&i| orm.exists(model, i)) {
        let mut rec = Map::new();
        rec.insert("id".into(), json!(id));
        for (f, sub) in &fields {
            rec.insert(f.name.clone(), web_value(orm, model, id, f, sub)?);
        }
        out.push(Value::Object(rec));
    }
    Ok(out)
}
