//! [`Contract`] → `sale.order` with its lines, and the service products its billing kinds sell.
//!
//! An order starts with a section line holding the contract's title, then one product line per
//! part of each billing line, in order ([`line_refs`] says which part each line sells):
//!
//! | billing kind | order lines | product ([`service_product`]) |
//! |---|---|---|
//! | fixed-fee milestones | one per milestone: 1 × its amount | `delivered_milestones`: delivered as the project milestone of the line is reached |
//! | time and materials | one per role of the rate card: 0 h × the role's rate | `delivered_timesheet`: delivered as time is recorded on the line |
//! | retainer | 1 × the amount (and 1 × the top-ups so far) | `ordered_prepaid`: invoiced when ordered, consumed by timesheets |
//! | pass-through expenses | 0 × 0: expenses re-invoiced are added to the order by Odoo | `delivered_manual` with `expense_policy` `cost` |
//! | recurring service | the number of periods × the period's amount | `ordered_prepaid` (ordered quantities) |
//!
//! The order's state is not a value Odoo lets one write: [`target_state`] says where the contract's
//! status puts it, and [`workflow_calls`] the calls that take an order there.

use chrono::NaiveTime;
use rust_decimal::{Decimal, RoundingStrategy};

use odoo_connect_canonical::{
    BillingKind, BillingLine, Contract, ContractStatus, FixedFeeRecognition, Recurrence,
    RecurringService,
};
use odoo_connect_client::models::product::{
    InvoicePolicy, ProductType, ServicePolicy, ServiceTracking, ServiceType,
};
use odoo_connect_client::models::sale::{SaleLineDisplayType, SaleOrderState};
use odoo_connect_client::models::{ProductValues, SaleOrder, SaleOrderLineValues, SaleOrderValues};
use odoo_connect_client::write::Create;
use odoo_connect_client::{Command, OdooCall, RecordId, ServerVersion};

use super::{LinePart, Mapped, MappingContext, MappingError, SaleLineRef, UnsupportedField};

/// Decimals of an ordered quantity (Odoo's default precision for units of measure).
const QTY_DECIMALS: u32 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Uom {
    Unit,
    Hour,
}

#[derive(Debug, Clone)]
enum Planned {
    Section(String),
    Product {
        index: usize,
        kind: BillingKind,
        line: SaleLineRef,
        name: String,
        quantity: Decimal,
        price: Decimal,
        uom: Uom,
    },
    /// A billing line of a kind added to the canonical model after this mapping: it makes no
    /// order line, and [`to_odoo`] refuses the contract rather than leave it out.
    Unmapped {
        index: usize,
        kind: BillingKind,
    },
}

fn recurrence_text(r: Recurrence) -> &'static str {
    match r {
        Recurrence::Monthly => "monthly",
        Recurrence::Quarterly => "quarterly",
        Recurrence::HalfYearly => "half-yearly",
        Recurrence::Yearly => "yearly",
        // A period added to the canonical model after this mapping: the text only goes into a
        // report message.
        _ => "recurring",
    }
}

/// The order lines of a contract, without ids, and what they cannot hold.
fn plan(contract: &Contract) -> (Vec<Planned>, Vec<UnsupportedField>) {
    let mut lines = vec![Planned::Section(contract.title.clone())];
    let mut unsupported = Vec::new();
    for (index, billing) in contract.billing_lines.iter().enumerate() {
        let path = format!("billing_lines[{index}]");
        let kind = billing.kind();
        let r = |part| SaleLineRef::new(contract.key.clone(), billing.id().clone(), part);
        match billing {
            BillingLine::FixedFeeMilestones(l) => {
                for m in &l.milestones {
                    lines.push(Planned::Product {
                        index,
                        kind,
                        line: r(LinePart::Milestone(m.key.clone())),
                        name: format!("{}: {}", l.description, m.name),
                        quantity: Decimal::ONE,
                        price: m.amount.amount,
                        uom: Uom::Unit,
                    });
                }
                if l.recognition == FixedFeeRecognition::PercentageOfCompletion {
                    unsupported.push(UnsupportedField::new(
                        format!("{path}.recognition"),
                        "Odoo delivers a milestone line when its milestone is reached; revenue by \
                         percentage of completion is not held",
                    ));
                }
            }
            BillingLine::TimeAndMaterials(l) => {
                for rate in &l.rate_card {
                    lines.push(Planned::Product {
                        index,
                        kind,
                        line: r(LinePart::Role(rate.role.clone())),
                        name: format!("{} ({})", l.description, rate.role),
                        quantity: Decimal::ZERO,
                        price: rate.rate.amount,
                        uom: Uom::Hour,
                    });
                }
                if let Some(cap) = &l.not_to_exceed {
                    unsupported.push(UnsupportedField::new(
                        format!("{path}.not_to_exceed"),
                        format!("a sale order line has no cap: {cap} is not held"),
                    ));
                }
            }
            BillingLine::Retainer(l) => {
                lines.push(Planned::Product {
                    index,
                    kind,
                    line: r(LinePart::Whole),
                    name: l.description.clone(),
                    quantity: Decimal::ONE,
                    price: l.amount.amount,
                    uom: Uom::Unit,
                });
                if !l.topped_up.is_zero() {
                    lines.push(Planned::Product {
                        index,
                        kind,
                        line: r(LinePart::TopUps),
                        name: format!("{}: top-ups", l.description),
                        quantity: Decimal::ONE,
                        price: l.topped_up.amount,
                        uom: Uom::Unit,
                    });
                }
                if l.top_up.is_some() {
                    unsupported.push(UnsupportedField::new(
                        format!("{path}.top_up"),
                        "Odoo has no automatic top-up: each top-up is a line added when invoiced",
                    ));
                }
                if !l.consumed.is_zero() {
                    unsupported.push(UnsupportedField::new(
                        format!("{path}.consumed"),
                        "Odoo measures consumption from the timesheets recorded on the line",
                    ));
                }
            }
            BillingLine::PassThroughExpenses(l) => {
                lines.push(Planned::Product {
                    index,
                    kind,
                    line: r(LinePart::Whole),
                    name: l.description.clone(),
                    quantity: Decimal::ZERO,
                    price: Decimal::ZERO,
                    uom: Uom::Unit,
                });
                if !l.markup.is_zero() {
                    unsupported.push(UnsupportedField::new(
                        format!("{path}.markup"),
                        "Odoo re-invoices expenses at cost or at the product's sales price; a \
                         markup is not held",
                    ));
                }
                if !l.approval_required {
                    unsupported.push(UnsupportedField::new(
                        format!("{path}.approval_required"),
                        "Odoo re-invoices approved expenses only",
                    ));
                }
            }
            BillingLine::RecurringService(l) => {
                let (quantity, note) = recurring_quantity(l);
                lines.push(Planned::Product {
                    index,
                    kind,
                    line: r(LinePart::Whole),
                    name: l.description.clone(),
                    quantity,
                    price: l.amount.amount,
                    uom: Uom::Unit,
                });
                unsupported.push(UnsupportedField::new(
                    format!("{path}.period"),
                    format!(
                        "recurring invoicing needs subscriptions (Odoo Enterprise): ordered as \
                         {quantity} {} period(s) from {}",
                        recurrence_text(l.period),
                        l.start
                    ),
                ));
                if let Some(note) = note {
                    unsupported.push(UnsupportedField::new(format!("{path}.end"), note));
                }
            }
            // Leaving a billing line out would change what the order sells: `to_odoo` refuses it.
            _ => lines.push(Planned::Unmapped { index, kind }),
        }
    }
    (lines, unsupported)
}

/// Periods of a recurring service as an ordered quantity, with a note when it is not exact.
fn recurring_quantity(l: &RecurringService) -> (Decimal, Option<String>) {
    let Some(end) = l.end else {
        return (
            Decimal::ONE,
            Some("an open-ended service is ordered for its first period".to_owned()),
        );
    };
    let exact: Decimal = l
        .periods(end)
        .map(|p| Decimal::from(p.covered_days) / Decimal::from(p.full_days))
        .sum();
    let rounded =
        exact.round_dp_with_strategy(QTY_DECIMALS, RoundingStrategy::MidpointAwayFromZero);
    let note = (rounded != exact).then(|| {
        format!(
            "the last period is cut short: ordered as {rounded} periods (Odoo quantities have \
             {QTY_DECIMALS} decimals)"
        )
    });
    (rounded.normalize(), note)
}

/// What each line of `order_line` in [`to_odoo`]'s values sells, in order; `None` for the title
/// section. Zip it with the line ids read back to fill [`MappingContext::sale_lines`].
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{BillingLine, Contract, Currency, Money, Rate};
/// use odoo_connect_flows::mapping::{LinePart, contract};
/// use rust_decimal::Decimal;
///
/// let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
/// let mut c = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Audit", Currency::EUR, start);
/// let rate = |r: &str, a| Rate::new(r.parse().unwrap(), Money::new(Decimal::new(a, 0), Currency::EUR));
/// c.billing_lines.push(BillingLine::time_and_materials("tm".parse()?, "Advisory", vec![rate("partner", 400), rate("analyst", 150)], None));
/// let refs = contract::line_refs(&c);
/// assert_eq!(refs.len(), 3);
/// assert!(refs[0].is_none());
/// assert_eq!(refs[2].as_ref().unwrap().part, LinePart::Role("analyst".parse()?));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn line_refs(contract: &Contract) -> Vec<Option<SaleLineRef>> {
    plan(contract)
        .0
        .into_iter()
        .filter_map(|p| match p {
            Planned::Section(_) => Some(None),
            Planned::Product { line, .. } => Some(Some(line)),
            // No order line is made for it (`to_odoo` refuses such a contract).
            Planned::Unmapped { .. } => None,
        })
        .collect()
}

/// The `sale.order` values of a contract, its lines included (as create commands).
///
/// Needs the partner of the client, the company of the legal entity and a product for each
/// billing kind (per role for time and materials when [`MappingContext::role_products`] has one).
/// The order's currency comes from the pricelist of the contract currency when the context has
/// one (a sale order's currency is read-only; without one the customer's pricelist decides).
/// The contract key is the order's `origin`; the date of signature its `date_order`.
///
/// These values create an order. To write an existing one, drop `order_line`, or replace its
/// lines while it is a quotation.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{BillingKind, BillingLine, Contract, Currency, Money, Rate};
/// use odoo_connect_flows::mapping::{MappingContext, contract};
/// use odoo_connect_client::ServerVersion;
/// use rust_decimal::Decimal;
///
/// let start = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
/// let mut c = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Audit", Currency::USD, start);
/// let rate = Rate::new("partner".parse()?, Money::new(Decimal::new(400, 0), Currency::USD));
/// c.billing_lines.push(BillingLine::time_and_materials("tm".parse()?, "Advisory", vec![rate], None));
///
/// let mut ctx = MappingContext::new(ServerVersion::new(19, 0));
/// ctx.clients.insert("acme".parse()?, 15);
/// ctx.companies.insert("firm".parse()?, 1);
/// ctx.products.insert(BillingKind::TimeAndMaterials, 42.into());
/// ctx.uom_hour = Some(4.into());
/// let mapped = contract::to_odoo(&c, &ctx)?;
/// assert_eq!(mapped.values.order_line.0[1].price_unit, Some(Decimal::new(400, 0)));
/// let lines = mapped.to_values().get("order_line").cloned().unwrap();
/// assert_eq!(lines[1][2]["product_uom_id"], 4); // `product_uom` up to Odoo 18
/// assert_eq!(lines[1][2]["price_unit"], 400.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_odoo(
    contract: &Contract,
    ctx: &MappingContext,
) -> Result<Mapped<SaleOrderValues>, MappingError> {
    let (planned, mut unsupported) = plan(contract);
    let partner = ctx.clients.id(&contract.client).ok_or_else(|| {
        MappingError::missing_id(
            "client",
            format!("res.partner of client {}", contract.client),
        )
    })?;
    let company = ctx.companies.id(&contract.legal_entity).ok_or_else(|| {
        MappingError::missing_id(
            "legal_entity",
            format!("res.company of legal entity {}", contract.legal_entity),
        )
    })?;
    let mut values = SaleOrderValues::new();
    values.partner_id = Some(partner);
    values.company_id = Some(company);
    values.origin = Some(contract.key.to_string());
    match ctx.pricelists.id(&contract.currency) {
        Some(p) => values.pricelist_id = Some(p),
        None => unsupported.push(UnsupportedField::new(
            "currency",
            format!(
                "an order takes its currency from its pricelist: no product.pricelist in {} \
                 resolved, the customer's pricelist decides",
                contract.currency
            ),
        )),
    }
    if let Some(signed) = contract.signed_on {
        values.date_order = Some(signed.and_time(NaiveTime::MIN).and_utc());
    }
    unsupported.push(UnsupportedField::new(
        "start_date",
        "a sale order has no start date",
    ));
    if contract.end_date.is_some() {
        unsupported.push(UnsupportedField::new(
            "end_date",
            "a sale order has no end date",
        ));
    }
    if !contract.amendments.is_empty() {
        unsupported.push(UnsupportedField::new(
            "amendments",
            format!(
                "a sale order holds the current terms (version {}), not their history",
                contract.version
            ),
        ));
    }
    if contract.status == ContractStatus::Suspended {
        unsupported.push(UnsupportedField::new(
            "status",
            "Odoo has no suspended sale order: the order stays confirmed",
        ));
    }
    let version = &ctx.version;
    let mut lines = Vec::with_capacity(planned.len());
    for (position, p) in planned.into_iter().enumerate() {
        let sequence = i32::try_from((position + 1) * 10).unwrap_or(i32::MAX);
        let mut v = SaleOrderLineValues::new();
        match p {
            Planned::Section(title) => {
                v.display_type = Some(SaleLineDisplayType::LineSection);
                v.name = Some(title);
            }
            Planned::Unmapped { index, kind } => {
                return Err(MappingError::Unsupported {
                    path: format!("billing_lines[{index}]"),
                    version: version.to_string(),
                    reason: format!("billing kind {kind} is not mapped to sale order lines"),
                });
            }
            Planned::Product {
                index,
                kind,
                line,
                name,
                quantity,
                price,
                uom,
            } => {
                let role_product = match &line.part {
                    LinePart::Role(role) => ctx.role_products.get(role).copied(),
                    _ => None,
                };
                let product = role_product
                    .or_else(|| ctx.products.get(&kind).copied())
                    .ok_or_else(|| {
                        MappingError::missing_id(
                            format!("billing_lines[{index}]"),
                            format!("product.product for {kind}"),
                        )
                    })?;
                v.name = Some(name);
                v.product_id = Some(product);
                v.product_uom_qty = Some(quantity);
                v.price_unit = Some(price);
                v.product_uom_id = match uom {
                    Uom::Unit => ctx.uom_unit,
                    Uom::Hour => ctx.uom_hour,
                };
                if !ctx.sale_taxes.is_empty() {
                    v.tax_ids = vec![Command::set(ctx.sale_taxes.iter().copied())];
                }
            }
        }
        v.sequence = Some(sequence);
        lines.push(v);
    }
    values.order_line = Create(lines);
    Ok(Mapped::finish(values, unsupported, version))
}

/// Where a contract's status puts its sale order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OrderTarget {
    /// The order's `state`.
    pub state: SaleOrderState,
    /// Whether the order is locked (the `locked` flag, from Odoo 17).
    pub locked: bool,
}

/// The state of the sale order of a contract, on this version.
///
/// Draft: a quotation. Signed, active and suspended: a confirmed order. Closed: a locked order
/// (state `done` in Odoo 16, `sale` with `locked` from 17), or a cancelled one when it was never
/// signed.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Contract, Currency};
/// use odoo_connect_flows::mapping::contract;
/// use odoo_connect_client::{ServerVersion, models::sale::SaleOrderState};
///
/// let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
/// let mut c = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Audit", Currency::EUR, day);
/// c.sign(day)?;
/// c.close()?;
/// let t16 = contract::target_state(&c, &ServerVersion::new(16, 0));
/// assert_eq!((t16.state, t16.locked), (SaleOrderState::Done, false));
/// let t17 = contract::target_state(&c, &ServerVersion::new(17, 0));
/// assert_eq!((t17.state, t17.locked), (SaleOrderState::Sale, true));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn target_state(contract: &Contract, version: &ServerVersion) -> OrderTarget {
    let (state, locked) = match contract.status {
        ContractStatus::Draft => (SaleOrderState::Draft, false),
        ContractStatus::Closed if contract.signed_on.is_none() => (SaleOrderState::Cancel, false),
        ContractStatus::Closed if version.major < 17 => (SaleOrderState::Done, false),
        ContractStatus::Closed => (SaleOrderState::Sale, true),
        _ => (SaleOrderState::Sale, false),
    };
    OrderTarget { state, locked }
}

/// The workflow calls that take the order `current` to the [`target_state`] of `contract`, in
/// order; empty when it is there already or cannot move forward to it (a confirmed order is
/// never put back to a quotation).
///
/// `action_confirm` confirms; `action_lock` (17+) or `action_done` (16) locks; `action_cancel`
/// cancels.
///
/// ```
/// use chrono::NaiveDate;
/// use odoo_connect_canonical::{Contract, Currency};
/// use odoo_connect_flows::mapping::contract;
/// use odoo_connect_client::{ServerVersion, models::SaleOrder};
///
/// let day = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
/// let mut c = Contract::new("c-1".parse()?, "acme".parse()?, "firm".parse()?, "Audit", Currency::EUR, day);
/// c.sign(day)?;
/// let quotation: SaleOrder = serde_json::from_str(r#"{"id": 29, "state": "draft"}"#)?;
/// let calls = contract::workflow_calls(&c, &quotation, &ServerVersion::new(19, 0));
/// assert_eq!(calls.len(), 1);
/// assert_eq!(calls[0].to_string(), "sale.order.action_confirm(ids=[29])");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn workflow_calls(
    contract: &Contract,
    current: &SaleOrder,
    version: &ServerVersion,
) -> Vec<OdooCall> {
    let target = target_state(contract, version);
    let call = |method: &str| OdooCall::new("sale.order", method).ids([current.id]);
    let quotation = matches!(
        current.state,
        Some(SaleOrderState::Draft | SaleOrderState::Sent) | None
    );
    let confirmed = current.state == Some(SaleOrderState::Sale);
    let mut calls = Vec::new();
    match target.state {
        SaleOrderState::Cancel
            if current.state != Some(SaleOrderState::Cancel) && !current.is_locked() =>
        {
            calls.push(call("action_cancel"));
        }
        SaleOrderState::Sale | SaleOrderState::Done => {
            if quotation {
                calls.push(call("action_confirm"));
            }
            let lock = target.locked || target.state == SaleOrderState::Done;
            if lock && (quotation || confirmed) && !current.is_locked() {
                calls.push(call(if version.major >= 17 {
                    "action_lock"
                } else {
                    "action_done"
                }));
            }
        }
        _ => {}
    }
    calls
}

/// How an Odoo service sold for a billing kind is invoiced.
///
/// ```
/// use odoo_connect_canonical::BillingKind;
/// use odoo_connect_flows::mapping::contract::service_policy;
/// use odoo_connect_client::models::product::ServicePolicy;
/// assert_eq!(service_policy(BillingKind::FixedFeeMilestones), ServicePolicy::DeliveredMilestones);
/// assert_eq!(service_policy(BillingKind::TimeAndMaterials), ServicePolicy::DeliveredTimesheet);
/// assert_eq!(service_policy(BillingKind::Retainer), ServicePolicy::OrderedPrepaid);
/// ```
pub fn service_policy(kind: BillingKind) -> ServicePolicy {
    policies(kind).0
}

fn policies(kind: BillingKind) -> (ServicePolicy, InvoicePolicy, ServiceType) {
    match kind {
        BillingKind::FixedFeeMilestones => (
            ServicePolicy::DeliveredMilestones,
            InvoicePolicy::Delivery,
            ServiceType::Milestones,
        ),
        BillingKind::TimeAndMaterials => (
            ServicePolicy::DeliveredTimesheet,
            InvoicePolicy::Delivery,
            ServiceType::Timesheet,
        ),
        BillingKind::Retainer => (
            ServicePolicy::OrderedPrepaid,
            InvoicePolicy::Order,
            ServiceType::Timesheet,
        ),
        BillingKind::PassThroughExpenses => (
            ServicePolicy::DeliveredManual,
            InvoicePolicy::Delivery,
            ServiceType::Manual,
        ),
        BillingKind::RecurringService => (
            ServicePolicy::OrderedPrepaid,
            InvoicePolicy::Order,
            ServiceType::Manual,
        ),
        // A kind added to the canonical model after this mapping: delivered by hand, so nothing
        // is invoiced until someone records what was delivered.
        _ => (
            ServicePolicy::DeliveredManual,
            InvoicePolicy::Delivery,
            ServiceType::Manual,
        ),
    }
}

/// What confirming an order creates for a line of a billing kind (`service_tracking`, Odoo's
/// `sale_project`): fixed-fee milestones `project_only` (the order's project, and one
/// `project.milestone` per line, reached to deliver it), time and materials `task_in_project` (a
/// task per role line in the order's project, on which time is recorded), the rest `no`.
///
/// ```
/// use odoo_connect_canonical::BillingKind;
/// use odoo_connect_flows::mapping::contract::service_tracking;
/// assert_eq!(service_tracking(BillingKind::FixedFeeMilestones), "project_only");
/// assert_eq!(service_tracking(BillingKind::TimeAndMaterials), "task_in_project");
/// assert_eq!(service_tracking(BillingKind::Retainer), "no");
/// ```
pub fn service_tracking(kind: BillingKind) -> &'static str {
    match kind {
        BillingKind::FixedFeeMilestones => "project_only",
        BillingKind::TimeAndMaterials => "task_in_project",
        _ => "no",
    }
}

/// The `product.template` (or `product.product`) values of the service sold for a billing kind.
///
/// A service (`type` from Odoo 18, `detailed_type` up to 17) invoiced as [`service_policy`] says
/// (with the `invoice_policy` and `service_type` it stands for), tracked as [`service_tracking`]
/// says, so that confirming an order makes the project (and its milestones and tasks) the way
/// Odoo's `sale_project` does. Pass-through expenses re-invoice expenses at cost. Time and materials are sold by the hour
/// ([`MappingContext::uom_hour`]), the rest by unit ([`MappingContext::uom_unit`]); up to Odoo 18
/// the purchase unit (`uom_po_id`) is set to the same unit, as Odoo requires both in one category.
///
/// ```
/// use odoo_connect_canonical::BillingKind;
/// use odoo_connect_flows::mapping::{MappingContext, contract};
/// use odoo_connect_client::ServerVersion;
///
/// let ctx17 = MappingContext::new(ServerVersion::new(17, 0));
/// let p = contract::service_product(BillingKind::FixedFeeMilestones, "Fixed fee", &ctx17);
/// assert_eq!(p.to_values().get("detailed_type"), Some(&"service".into()));
/// assert_eq!(p.to_values().get("service_policy"), Some(&"delivered_milestones".into()));
/// let ctx18 = ctx17.for_version(ServerVersion::new(18, 0));
/// let p = contract::service_product(BillingKind::FixedFeeMilestones, "Fixed fee", &ctx18);
/// assert_eq!(p.to_values().get("type"), Some(&"service".into()));
/// ```
pub fn service_product(
    kind: BillingKind,
    name: &str,
    ctx: &MappingContext,
) -> Mapped<ProductValues> {
    let (service, invoice, tracked) = policies(kind);
    let Ok(tracking) = service_tracking(kind).parse::<ServiceTracking>();
    let mut values = ProductValues::new();
    values.name = Some(name.to_owned());
    values.product_type = Some(ProductType::Service);
    values.sale_ok = Some(true);
    values.service_policy = Some(service);
    values.invoice_policy = Some(invoice);
    values.service_type = Some(tracked);
    values.service_tracking = Some(tracking);
    values.expense_policy = Some(
        if kind == BillingKind::PassThroughExpenses {
            "cost"
        } else {
            "no"
        }
        .to_owned(),
    );
    let uom = if kind == BillingKind::TimeAndMaterials {
        ctx.uom_hour
    } else {
        ctx.uom_unit
    };
    values.uom_id = uom;
    // The purchase unit (up to Odoo 18), written only there by the field's version gate.
    values.uom_po_id = uom;
    Mapped::new(values, ctx.version.clone())
}

/// The order line ids of `order` paired with what each sells, for [`MappingContext::sale_lines`].
///
/// `line_ids` are the ids of the order's lines in their order (`sale.order.order_line` read back
/// after [`to_odoo`]'s values created them); lines past the contract's are left out.
pub fn pair_line_ids(contract: &Contract, line_ids: &[RecordId]) -> Vec<(SaleLineRef, RecordId)> {
    line_refs(contract)
        .into_iter()
        .zip(line_ids.iter().copied())
        .filter_map(|(r, id)| r.map(|r| (r, id)))
        .collect()
}
