//! What the fake knows about each model beyond its fields: description, default order, the field
//! used as its name, hierarchy, multi-company rule, required values and relation inverses.

/// Static description of a model.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ModelMeta {
    pub(crate) name: &'static str,
    /// Odoo's `_description`, used in error messages.
    pub(crate) description: &'static str,
    /// Odoo's `_order`.
    pub(crate) order: &'static str,
    /// Odoo's `_rec_name` (storage name), `None` when the model has none.
    pub(crate) rec_name: Option<&'static str>,
    /// Odoo's `_parent_name` for `child_of`/`parent_of`.
    pub(crate) parent: Option<&'static str>,
    /// Values a client must provide at creation (storage names).
    pub(crate) required: &'static [&'static str],
    /// Whether the record rule `company_id in allowed companies or not set` applies.
    pub(crate) company_rule: bool,
}

const fn meta(
    name: &'static str,
    description: &'static str,
    order: &'static str,
    rec_name: Option<&'static str>,
    required: &'static [&'static str],
) -> ModelMeta {
    ModelMeta {
        name,
        description,
        order,
        rec_name,
        parent: None,
        required,
        company_rule: false,
    }
}

const fn tree(m: ModelMeta) -> ModelMeta {
    ModelMeta {
        parent: Some("parent_id"),
        ..m
    }
}

const fn company(m: ModelMeta) -> ModelMeta {
    ModelMeta {
        company_rule: true,
        ..m
    }
}

const NAME: Option<&str> = Some("name");

/// Every model the fake serves.
pub(crate) const MODELS: &[ModelMeta] = &[
    company(tree(meta(
        "res.partner",
        "Contact",
        "complete_name asc, id desc",
        Some("complete_name"),
        &[],
    ))),
    tree(meta(
        "res.company",
        "Companies",
        "sequence, name",
        NAME,
        &["name"],
    )),
    meta(
        "res.currency",
        "Currency",
        "active desc, name",
        NAME,
        &["name", "symbol"],
    ),
    meta("res.country", "Country", "name", NAME, &["name"]),
    meta("res.users", "User", "name, login", NAME, &["login", "name"]),
    meta(
        "res.lang",
        "Languages",
        "active desc, name",
        NAME,
        &["name", "code"],
    ),
    tree(meta(
        "res.partner.category",
        "Partner Tags",
        "name",
        NAME,
        &["name"],
    )),
    meta(
        "ir.model.data",
        "Model Data",
        "module, model, name",
        Some("complete_name"),
        &["name", "module", "model"],
    ),
    meta(
        "ir.config_parameter",
        "System Parameter",
        "key",
        Some("key"),
        &["key", "value"],
    ),
    company(tree(meta(
        "hr.employee",
        "Employee",
        "name",
        NAME,
        &["name"],
    ))),
    company(tree(meta(
        "hr.department",
        "Department",
        "name",
        Some("complete_name"),
        &["name"],
    ))),
    company(meta(
        "resource.calendar",
        "Resource Working Time",
        "name",
        NAME,
        &["name"],
    )),
    company(meta(
        "product.product",
        "Product Variant",
        "default_code, name, id",
        NAME,
        &["name"],
    )),
    company(meta("product.template", "Product", "name", NAME, &["name"])),
    tree(meta(
        "product.category",
        "Product Category",
        "complete_name",
        Some("complete_name"),
        &["name"],
    )),
    meta(
        "uom.uom",
        "Product Unit of Measure",
        "sequence, id",
        NAME,
        &["name"],
    ),
    company(meta(
        "sale.order",
        "Sales Order",
        "date_order desc, id desc",
        NAME,
        &["partner_id"],
    )),
    company(meta(
        "sale.order.line",
        "Sales Order Line",
        "order_id, sequence, id",
        NAME,
        &["order_id"],
    )),
    company(meta(
        "project.project",
        "Project",
        "sequence, name, id",
        NAME,
        &["name"],
    )),
    company(tree(meta(
        "project.task",
        "Task",
        "priority desc, sequence, id desc",
        NAME,
        &["name"],
    ))),
    meta(
        "project.task.type",
        "Task Stage",
        "sequence, id",
        NAME,
        &["name"],
    ),
    meta(
        "project.milestone",
        "Project Milestone",
        "deadline, is_reached desc, name",
        NAME,
        &["name", "project_id"],
    ),
    tree(meta(
        "account.analytic.plan",
        "Analytic Plans",
        "sequence asc, id",
        NAME,
        &["name"],
    )),
    company(meta(
        "account.analytic.account",
        "Analytic Account",
        "name asc",
        NAME,
        &["name"],
    )),
    company(meta(
        "account.analytic.line",
        "Analytic Line",
        "date desc, id desc",
        NAME,
        &[],
    )),
    company(meta(
        "account.move",
        "Journal Entry",
        "date desc, name desc, invoice_date desc, id desc",
        NAME,
        &[],
    )),
    company(meta(
        "account.move.line",
        "Journal Item",
        "date desc, move_name desc, id",
        NAME,
        &["move_id"],
    )),
    company(meta(
        "account.journal",
        "Journal",
        "sequence, type, code",
        NAME,
        &["name", "code", "type"],
    )),
    company(meta(
        "account.payment",
        "Payments",
        "date desc, name desc",
        NAME,
        &[],
    )),
    company(meta(
        "account.payment.term",
        "Payment Terms",
        "sequence, id",
        NAME,
        &["name"],
    )),
    meta(
        "account.payment.method.line",
        "Payment Methods",
        "sequence, id",
        NAME,
        &[],
    ),
    company(meta("account.tax", "Tax", "sequence, id", NAME, &["name"])),
    company(meta(
        "hr.expense",
        "Expense",
        "date desc, id desc",
        NAME,
        &["name", "employee_id"],
    )),
    meta(
        "ir.module.module",
        "Module",
        "application desc, name",
        Some("shortdesc"),
        &["name"],
    ),
    company(meta(
        "product.pricelist",
        "Pricelist",
        "sequence, id, name",
        NAME,
        &["name", "currency_id"],
    )),
    meta(
        "sale.advance.payment.inv",
        "Sales Advance Payment Invoice",
        "id",
        None,
        &[],
    ),
    meta("account.payment.register", "Pay", "id", None, &[]),
    meta("base.language.install", "Install Language", "id", None, &[]),
];

/// The description of a model served by the fake.
pub(crate) fn model_meta(name: &str) -> Option<&'static ModelMeta> {
    MODELS.iter().find(|m| m.name == name)
}

/// The many2one (storage name) on the comodel that a one2many field mirrors.
pub(crate) fn one2many_inverse(model: &str, field: &str) -> Option<&'static str> {
    Some(match (model, field) {
        ("res.partner", "child_ids") => "parent_id",
        ("res.partner", "user_ids") => "partner_id",
        ("res.partner", "sale_order_ids") => "partner_id",
        ("res.partner", "invoice_ids") => "partner_id",
        ("res.partner.category", "child_ids") => "parent_id",
        ("res.company", "child_ids") => "parent_id",
        ("hr.department", "child_ids") => "parent_id",
        ("hr.department", "member_ids") => "department_id",
        ("hr.employee", "child_ids") => "parent_id",
        ("product.category", "child_id") => "parent_id",
        ("product.template", "product_variant_ids") => "product_tmpl_id",
        ("sale.order", "order_line") => "order_id",
        ("project.project", "task_ids") => "project_id",
        ("project.project", "tasks") => "project_id",
        ("project.project", "milestone_ids") => "project_id",
        ("project.project", "timesheet_ids") => "project_id",
        ("project.task", "child_ids") => "parent_id",
        ("project.task", "timesheet_ids") => "task_id",
        ("account.analytic.account", "line_ids") => "account_id",
        ("account.move", "line_ids") => "move_id",
        ("account.move", "invoice_line_ids") => "move_id",
        ("hr.employee", "timesheet_ids") => "employee_id",
        _ => return None,
    })
}

/// Many2many pairs stored on one side only: `(model, field)` reads the ids of the records of
/// `comodel` whose `comodel_field` contains it.
pub(crate) fn many2many_inverse(model: &str, field: &str) -> Option<&'static str> {
    Some(match (model, field) {
        ("res.partner.category", "partner_ids") => "category_id",
        ("sale.order.line", "invoice_lines") => "sale_line_ids",
        ("project.project", "type_ids") => "project_ids",
        _ => return None,
    })
}

/// One2many fields whose comodel records are deleted with their parent (`ondelete='cascade'`).
pub(crate) fn cascades(model: &str, inverse: &str) -> bool {
    matches!(
        (model, inverse),
        ("sale.order.line", "order_id")
            | ("account.move.line", "move_id")
            | ("project.milestone", "project_id")
    )
}

/// Methods that change data (everything that is not a read): the calls the
/// drop-after-commit fault applies to.
pub(crate) fn is_read_only_method(method: &str) -> bool {
    matches!(
        method,
        "search"
            | "search_read"
            | "search_count"
            | "read"
            | "name_search"
            | "fields_get"
            | "read_group"
            | "formatted_read_group"
            | "web_search_read"
            | "web_read"
            | "context_get"
            | "default_get"
            | "has_access"
            | "check_access_rights"
            | "search_fetch"
            | "exists"
    )
}

/// The relational fields declared `check_company=True` (API names, in declaration order) of
/// the models with `_check_company_auto = True`, as in Odoo 19's `sale`, `account`,
/// `analytic` and `product` modules: after a `create` or `write`, each record's values of these
/// fields must belong to the record's company or to none (`_check_company`). `None` for the
/// other models (project.project, project.milestone, res.partner, product.pricelist,
/// product.product, ... are not checked automatically). Fields the fake's schema lacks are
/// skipped.
pub(crate) fn check_company_fields(model: &str) -> Option<&'static [&'static str]> {
    Some(match model {
        "sale.order" => &[
            "partner_id",
            "partner_invoice_id",
            "partner_shipping_id",
            "fiscal_position_id",
            "journal_id",
            "payment_term_id",
            "preferred_payment_method_line_id",
            "pricelist_id",
            "team_id",
            "sale_order_template_id",
        ],
        "sale.order.line" => &["product_id", "tax_ids"],
        "account.move" => &[
            "journal_id",
            "partner_id",
            "commercial_partner_id",
            "partner_shipping_id",
            "partner_bank_id",
            "fiscal_position_id",
            "invoice_payment_term_id",
            "invoice_vendor_bill_id",
            "reversed_entry_id",
            "origin_payment_id",
            "statement_line_id",
        ],
        "account.move.line" => &[
            "move_id",
            "account_id",
            "product_id",
            "tax_ids",
            "group_tax_id",
            "tax_repartition_line_id",
            "reconcile_model_id",
        ],
        "account.payment" => &[
            "move_id",
            "journal_id",
            "partner_bank_id",
            "partner_id",
            "outstanding_account_id",
            "destination_account_id",
        ],
        "account.payment.register" => &["journal_id", "writeoff_account_id"],
        "account.journal" => &[
            "default_account_id",
            "suspense_account_id",
            "non_deductible_account_id",
            "inbound_payment_method_line_ids",
            "outbound_payment_method_line_ids",
            "profit_account_id",
            "loss_account_id",
            "bank_account_id",
            "journal_group_ids",
        ],
        "account.analytic.line" => &[
            "partner_id",
            "product_id",
            "general_account_id",
            "journal_id",
            "move_line_id",
        ],
        "account.analytic.account" => &["partner_id"],
        "account.tax" => &["children_tax_ids", "cash_basis_transition_account_id"],
        "account.fiscal.position" => &[],
        "product.template" => &["optional_product_ids", "combo_ids"],
        _ => return None,
    })
}
